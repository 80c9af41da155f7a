"""The operational deployment: ``frontdesk worker consumers.operational.app:app``.

Thin on purpose: each handler hands its event to `Operations`, where the work is and
where it is tested. Business-rule violations raise `NonRetryableError` subclasses from
there (DLQ at once); database hiccups raise anything else (retried).
"""

from __future__ import annotations

import functools

import frontdesk
from consumers.common import wiring
from consumers.operational.service import Operations
from frontdesk.events import (
    BookingCancelled,
    BookingCreated,
    BookingModified,
    CleaningTaskCompleted,
    CleaningTaskScheduled,
    GuestCheckedIn,
    GuestCheckedOut,
    MaintenanceRequested,
    PaymentCaptured,
    PaymentRefunded,
)

app = frontdesk.App("operational", queue="operational")


@functools.cache
def ops() -> Operations:
    return Operations(wiring.store(), emit=wiring.emitter())


@app.handler(BookingCreated)
async def booking_created(event: BookingCreated, ctx: frontdesk.Context) -> None:
    await ops().booking_created(event)


@app.handler(BookingModified)
async def booking_modified(event: BookingModified, ctx: frontdesk.Context) -> None:
    await ops().booking_modified(event)


@app.handler(BookingCancelled)
async def booking_cancelled(event: BookingCancelled, ctx: frontdesk.Context) -> None:
    await ops().booking_cancelled(event)


@app.handler(GuestCheckedIn)
async def guest_checked_in(event: GuestCheckedIn, ctx: frontdesk.Context) -> None:
    await ops().guest_checked_in(event)


@app.handler(GuestCheckedOut)
async def guest_checked_out(event: GuestCheckedOut, ctx: frontdesk.Context) -> None:
    await ops().guest_checked_out(event)


@app.handler(CleaningTaskScheduled)
async def cleaning_task_scheduled(event: CleaningTaskScheduled, ctx: frontdesk.Context) -> None:
    await ops().cleaning_task_scheduled(event)


@app.handler(CleaningTaskCompleted)
async def cleaning_task_completed(event: CleaningTaskCompleted, ctx: frontdesk.Context) -> None:
    await ops().cleaning_task_completed(event)


@app.handler(MaintenanceRequested)
async def maintenance_requested(event: MaintenanceRequested, ctx: frontdesk.Context) -> None:
    await ops().maintenance_requested(event)


@app.handler(PaymentCaptured)
async def payment_captured(event: PaymentCaptured, ctx: frontdesk.Context) -> None:
    await ops().payment_captured(event)


@app.handler(PaymentRefunded)
async def payment_refunded(event: PaymentRefunded, ctx: frontdesk.Context) -> None:
    await ops().payment_refunded(event)
