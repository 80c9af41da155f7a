"""Small helpers the deployments' services share: running store work off the event loop
and publishing follow-up events."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TypeVar
from uuid import NAMESPACE_URL, UUID, uuid5

from frontdesk.events import Event

T = TypeVar("T")

Emit = Callable[[Event], Awaitable[object]]
"""Publishes an event (e.g. ``AsyncProducer().send``); injected so services run without it."""

_EVENT_NAMESPACE = uuid5(NAMESPACE_URL, "https://frontdesk/consumers/derived-events")


async def in_thread(fn: Callable[..., T], /, *args: object) -> T:
    """Run blocking store work in a thread, so other keys' handlers keep running."""
    return await asyncio.to_thread(fn, *args)


def derived_event_id(cause: Event, what: str) -> UUID:
    """A stable id for the event ``what`` that ``cause`` leads to.

    A redelivered cause re-emits its follow-up with the same id, so downstream consumers
    de-duplicate it like any other redelivery.
    """
    return uuid5(_EVENT_NAMESPACE, f"{cause.meta.event_id}:{what}")


__all__ = ["Emit", "derived_event_id", "in_thread"]
