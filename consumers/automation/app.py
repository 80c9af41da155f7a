"""The automation deployment: ``frontdesk worker consumers.automation.app:app``.

Guest notifications (NotificationRequested) rendered from the tenant's templates and sent
through the messaging provider; see `consumers.automation.dispatch`. Scheduled ones are
sent by ``python -m consumers.automation.due``.
"""

from __future__ import annotations

import frontdesk
from consumers.automation.wiring import dispatcher
from frontdesk.events import NotificationRequested

app = frontdesk.App("automation", queue="automation")


@app.handler(NotificationRequested)
async def notification_requested(event: NotificationRequested, ctx: frontdesk.Context) -> None:
    await dispatcher().notify(event)
