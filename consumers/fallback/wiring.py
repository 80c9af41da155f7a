"""Building the fallback deployment's services from the settings."""

from __future__ import annotations

import functools

from consumers.automation.provider import MessagingClient
from consumers.automation.wiring import dispatcher
from consumers.common import wiring
from consumers.fallback.followups import FollowUps
from consumers.fallback.messages import DeferredMessages
from consumers.fallback.pushes import DeferredPushes
from consumers.sync.wiring import channel_sync


@functools.cache
def deferred_pushes() -> DeferredPushes:
    return DeferredPushes(channel_sync())


@functools.cache
def deferred_messages() -> DeferredMessages:
    s = wiring.settings()
    secondary = None
    if s.messaging_fallback_url:
        secondary = MessagingClient(
            s.messaging_fallback_url, name="secondary", timeout=s.http_timeout
        )
    return DeferredMessages(dispatcher(), secondary)


@functools.cache
def follow_ups() -> FollowUps:
    return FollowUps(wiring.store())


__all__ = ["deferred_messages", "deferred_pushes", "follow_ups"]
