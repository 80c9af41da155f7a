"""The web console for dead-letter review: overview, DLQ browser, event page, actions, audit.

`create_app` builds the FastAPI application over a `frontdesk.dlq.DlqReview`; users come
from a YAML file of scrypt hashes (`frontdesk.console.users`). Run it with
``frontdesk console``; see docs/operations.md.
"""

from frontdesk.console.app import ConsoleConfig, create_app
from frontdesk.console.overview import QueueMetricsProvider
from frontdesk.console.users import Role, User, UsersFileError, UserStore, add_user

__all__ = [
    "ConsoleConfig",
    "QueueMetricsProvider",
    "Role",
    "User",
    "UserStore",
    "UsersFileError",
    "add_user",
    "create_app",
]
