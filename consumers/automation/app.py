"""The automation deployment: ``frontdesk worker consumers.automation.app:app``.

Guest notifications (NotificationRequested) rendered from the tenant's templates and sent
through the messaging provider; see `consumers.automation.dispatch`. Scheduled ones are
sent by ``python -m consumers.automation.due``.

A provider outage that outlasts the retries does not dead-letter a guest's message: the
last attempt hands it to the fallback path (secondary provider, else the outbox that
``python -m consumers.fallback.drain`` sends when the primary recovers).
"""

from __future__ import annotations

import frontdesk
from consumers.automation.wiring import dispatcher
from consumers.common.errors import DependencyError
from consumers.fallback.wiring import deferred_messages
from frontdesk.events import NotificationRequested

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
