"""The operational deployment's work, one method per event type, ready for a handler.

Each method runs its store work in a thread, in one transaction that starts by claiming the
event id under `SCOPE`: the ledger changes and the claim commit together, so a redelivered
event is a no-op and a failed one leaves nothing half-done.

Follow-up events are published after the commit, through an injected ``emit``. If the
publish fails the handler fails and the event is redelivered; its claim is then already
there, so nothing is applied twice, but the follow-up is rebuilt from the stored row and
published again with the same derived event id: at-least-once, de-duplicable downstream.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from consumers.common.run import Emit, in_thread
from consumers.common.store import Store, Tx
from consumers.operational import bookings, housekeeping, maintenance, payments
from frontdesk.events import (
    BookingCancelled,
    BookingCreated,
    BookingModified,
    CleaningTaskCompleted,
    CleaningTaskScheduled,
    Event,
    GuestCheckedIn,
    GuestCheckedOut,
    MaintenanceRequested,
    PaymentCaptured,
    PaymentRefunded,
)

SCOPE = "operational"
"""The claim scope: another deployment sharing the store claims the same ids separately."""

MIGRATIONS = (
    *bookings.MIGRATIONS,
    *housekeeping.MIGRATIONS,
    *maintenance.MIGRATIONS,
    *payments.MIGRATIONS,
)

E = TypeVar("E", bound=Event)
T = TypeVar("T")


class Operations:
    """Bookings, housekeeping, maintenance and payments over one store."""

    def __init__(self, store: Store, *, emit: Emit | None = None) -> None:
        self.store = store
        self.emit = emit
        store.migrate(MIGRATIONS)

    async def booking_created(self, event: BookingCreated) -> bool:
        return await self._once(event, bookings.create)

    async def booking_modified(self, event: BookingModified) -> bool:
        return await self._once(event, bookings.modify)

    async def booking_cancelled(self, event: BookingCancelled) -> bool:
        return await self._once(event, bookings.cancel)

    async def guest_checked_in(self, event: GuestCheckedIn) -> bool:
        return await self._once(event, bookings.check_in)

    async def guest_checked_out(self, event: GuestCheckedOut) -> housekeeping.CleaningTask:
        """Close the stay and schedule the unit's clean; announce the task if emitting."""
        task = await in_thread(self._checked_out, event)
        if self.emit is not None:
            await self.emit(housekeeping.scheduled_event(task, event))
        return task

    async def cleaning_task_scheduled(self, event: CleaningTaskScheduled) -> bool:
        return await self._once(event, housekeeping.record_scheduled)

    async def cleaning_task_completed(self, event: CleaningTaskCompleted) -> bool:
        return await self._once(event, housekeeping.complete)

    async def maintenance_requested(self, event: MaintenanceRequested) -> bool:
        return await self._once(event, maintenance.open_ticket)

    async def payment_captured(self, event: PaymentCaptured) -> bool:
        return await self._once(event, payments.capture)

    async def payment_refunded(self, event: PaymentRefunded) -> bool:
        return await self._once(event, payments.refund)

    def read(self, query: Callable[[Tx], T]) -> T:
        """Run a read (``lambda tx: bookings.get(tx, ...)``) in its own transaction."""
        with self.store.transaction() as tx:
            return query(tx)

    async def _once(self, event: E, apply: Callable[[Tx, E], object]) -> bool:
        """Apply ``event`` unless already applied; whether it was applied now."""
        return await in_thread(self._apply_once, event, apply)

    def _apply_once(self, event: E, apply: Callable[[Tx, E], object]) -> bool:
        with self.store.transaction() as tx:
            if not tx.claim(SCOPE, event.meta.event_id):
                return False
            apply(tx, event)
            return True

    def _checked_out(self, event: GuestCheckedOut) -> housekeeping.CleaningTask:
        with self.store.transaction() as tx:
            if tx.claim(SCOPE, event.meta.event_id):
                bookings.check_out(tx, event)
                return housekeeping.schedule_checkout_clean(tx, event)
            task = housekeeping.get(
                tx,
                event.meta.tenant_id,
                housekeeping.checkout_task_id(event.booking_id, event.unit_id),
            )
            assert task is not None, "a claimed check-out always scheduled its clean"
            return task


__all__ = ["MIGRATIONS", "SCOPE", "Operations"]
