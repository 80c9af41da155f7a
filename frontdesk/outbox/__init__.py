"""The transactional outbox: events survive a Kafka outage and never outlive a rollback.

The PMS writes each event into an outbox table in the same database transaction as the
business change; a relay publishes the rows in order and marks them sent only once Kafka
has confirmed them::

    outbox = Outbox()                        # topology from Settings
    with conn:                               # sqlite3 or psycopg 3, the PMS's transaction
        conn.execute("UPDATE bookings ...")
        outbox.add(conn, booking_created)

    frontdesk outbox relay --db sqlite:///var/lib/pms.db     # or postgresql://...

SQLite (stdlib) and PostgreSQL (psycopg 3) are supported.
"""

from frontdesk.outbox.relay import Relay, RelayStats
from frontdesk.outbox.schema import DEFAULT_TABLE
from frontdesk.outbox.store import OutboxRow, OutboxStore, open_store
from frontdesk.outbox.writer import Outbox

__all__ = [
    "DEFAULT_TABLE",
    "Outbox",
    "OutboxRow",
    "OutboxStore",
    "Relay",
    "RelayStats",
    "open_store",
]
