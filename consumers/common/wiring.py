"""What every deployment's ``app.py`` needs at start-up: settings, the store, ``emit``.

Built lazily, on the first event, so importing an app module (to list its handlers, to
check its policies at boot) opens no database and no network connection.
"""

from __future__ import annotations

import functools

from consumers.common.run import Emit
from consumers.common.settings import ConsumerSettings
from consumers.common.store import Store
from frontdesk.producer import AsyncProducer


@functools.cache
def settings() -> ConsumerSettings:
    return ConsumerSettings()


@functools.cache
def store() -> Store:
    """The process's store, from ``FRONTDESK_STORE_URL``."""
    return Store(settings().store_url)


def emitter() -> Emit | None:
    """A producer's ``send`` when ``FRONTDESK_EMIT_EVENTS`` is on, else None."""
    if not settings().emit_events:
        return None
    return AsyncProducer().send


__all__ = ["emitter", "settings", "store"]
