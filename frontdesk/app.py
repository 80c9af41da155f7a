"""`frontdesk.App` lives in `frontdesk.worker.app`; this module keeps the short import path
``from frontdesk.app import App`` working for deployable apps."""

from frontdesk.worker.app import App
from frontdesk.worker.context import Context

__all__ = ["App", "Context"]
