"""The automation deployment: ``frontdesk worker consumers.automation.app:app``.

Guest notifications (NotificationRequested) rendered from the tenant's templates and sent
through the messaging provider; see `consumers.automation.dispatch`. Scheduled ones are
sent by ``python -m consumers.automation.due``. Guest conversations (GuestMessageReceived,
GuestMessageSent) are recorded, and a guest's message is acknowledged automatically when
nobody wrote back recently; see `consumers.automation.inbox`.

A provider outage that outlasts the retries does not dead-letter a guest's message: the
last attempt hands it to the fallback path (secondary provider, else the outbox that
``python -m consumers.fallback.drain`` sends when the primary recovers).
"""

from __future__ import annotations

import frontdesk
from consumers.automation.wiring import dispatcher, inbox
from consumers.common.errors import DependencyError
from consumers.fallback.wiring import deferred_messages
from frontdesk.events import GuestMessageReceived, GuestMessageSent, NotificationRequested

ATTEMPTS = 4
"""Deliveries through the primary provider before the fallback path takes over."""

app = frontdesk.App("automation", queue="automation")


@app.handler(NotificationRequested, max_attempts=ATTEMPTS)
async def notification_requested(event: NotificationRequested, ctx: frontdesk.Context) -> None:
    try:
        await dispatcher().notify(event)
    except DependencyError as exc:
        if ctx.attempt < ATTEMPTS:
            raise
        await deferred_messages().defer(event, reason=str(exc))


@app.handler(GuestMessageReceived, max_attempts=ATTEMPTS)
async def guest_message_received(event: GuestMessageReceived, ctx: frontdesk.Context) -> None:
    try:
        await inbox().message_received(event)
    except DependencyError as exc:
        if ctx.attempt < ATTEMPTS:
            raise
        await inbox().defer_acknowledgement(event, reason=str(exc))


@app.handler(GuestMessageSent)
async def guest_message_sent(event: GuestMessageSent, ctx: frontdesk.Context) -> None:
    await inbox().message_sent(event)
