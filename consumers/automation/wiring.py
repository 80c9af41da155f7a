"""Building the automation deployment's `Dispatcher` (shared by the app and the due-message
loop) and `Inbox` from the settings."""

from __future__ import annotations

import functools

from consumers.automation.dispatch import Dispatcher
from consumers.automation.inbox import Inbox
from consumers.automation.provider import MessagingClient
from consumers.automation.templates import Templates
from consumers.common import wiring


@functools.cache
def dispatcher() -> Dispatcher:
    s = wiring.settings()
    return Dispatcher(
        wiring.store(),
        Templates(s.templates_dir),
        MessagingClient(s.messaging_url, timeout=s.http_timeout),
    )


@functools.cache
def inbox() -> Inbox:
    return Inbox(dispatcher(), auto_acknowledge=wiring.settings().auto_acknowledge)


__all__ = ["dispatcher", "inbox"]
