"""The operational deployment's work: booking transitions, housekeeping from check-outs,
maintenance tickets, the payments ledger, and idempotency under redelivery.

Runs against a SQLite file and a PostgreSQL schema: the same SQL must behave the same.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from consumers.common.errors import NonRetryableError, TransitionError, UnknownEntityError
from consumers.common.store import Store
from consumers.operational import bookings, housekeeping, maintenance, payments
from consumers.operational.bookings import Status
from consumers.operational.service import Operations
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
from tests.support.consumers import STORES, open_store
from tests.support.postgres import postgres_dsn  # noqa: F401 - session fixture

T, P = "acme", "lisbon-1"
NOON = datetime(2025, 7, 4, 11, 0, tzinfo=UTC)


@pytest.fixture(params=STORES)
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    with open_store(request, tmp_path / "ops.db") as s:
        yield s


@pytest.fixture
def ops(store: Store) -> Operations:
    return Operations(store)


def created(booking: str = "B-1", **over: Any) -> BookingCreated:
    fields: dict[str, Any] = {
        "tenant_id": T,
        "property_id": P,
        "booking_id": booking,
        "room_type_id": "DBL",
        "unit_id": "204",
        "guest_id": "G-1",
        "guest_name": "Ana Silva",
        "arrival": date(2025, 7, 1),
        "departure": date(2025, 7, 4),
        "adults": 2,
        "children": 0,
        "channel": "booking_com",
        "status": "confirmed",
        "total_amount": Decimal("412.50"),
        "currency": "EUR",
    }
    return BookingCreated.new(**(fields | over))


def checked_in(booking: str = "B-1", unit: str = "204") -> GuestCheckedIn:
    return GuestCheckedIn.new(
        tenant_id=T,
        property_id=P,
        booking_id=booking,
        guest_id="G-1",
        unit_id=unit,
        checked_in_at=datetime(2025, 7, 1, 15, 0, tzinfo=UTC),
    )


def checked_out(booking: str = "B-1", unit: str = "204") -> GuestCheckedOut:
    return GuestCheckedOut.new(
        tenant_id=T,
        property_id=P,
        booking_id=booking,
        guest_id="G-1",
        unit_id=unit,
        checked_out_at=NOON,
        balance_due=Decimal("0"),
        currency="EUR",
    )


def cancelled(booking: str = "B-1") -> BookingCancelled:
    return BookingCancelled.new(
        tenant_id=T,
        property_id=P,
        booking_id=booking,
        cancelled_by="guest",
        cancellation_fee=Decimal("20"),
        currency="EUR",
    )


def booking(ops: Operations, booking_id: str = "B-1", tenant: str = T) -> bookings.Booking:
    found = ops.read(lambda tx: bookings.get(tx, tenant, booking_id))
    assert found is not None
    return found


# -- bookings ------------------------------------------------------------------------------


async def test_a_stay_moves_through_its_statuses(ops: Operations) -> None:
    await ops.booking_created(created())
    modified = BookingModified.new(
        tenant_id=T,
        property_id=P,
        booking_id="B-1",
        room_type_id="DBL",
        unit_id="204",
        arrival=date(2025, 7, 1),
        departure=date(2025, 7, 5),
        adults=2,
        children=1,
        total_amount=Decimal("550"),
        currency="EUR",
        changed_fields=("departure", "children", "total_amount"),
    )
    await ops.booking_modified(modified)
    await ops.guest_checked_in(checked_in())
    await ops.guest_checked_out(checked_out())

    b = booking(ops)
    assert b.status is Status.CHECKED_OUT
    assert b.departure == date(2025, 7, 5)
    assert b.total_amount == Decimal("550.00")
    history = ops.read(lambda tx: bookings.transitions(tx, T, "B-1"))
    assert history == [
        (None, "confirmed"),
        ("confirmed", "confirmed"),
        ("confirmed", "checked_in"),
        ("checked_in", "checked_out"),
    ]


async def test_check_out_of_a_cancelled_booking_is_dead_lettered(ops: Operations) -> None:
    await ops.booking_created(created())
    await ops.booking_cancelled(cancelled())
    with pytest.raises(TransitionError, match="cancelled") as caught:
        await ops.guest_checked_out(checked_out())
    assert isinstance(caught.value, NonRetryableError)
    assert booking(ops).status is Status.CANCELLED
    # Nothing of the refused event was kept: no cleaning task, no claim.
    assert ops.read(lambda tx: housekeeping.open_tasks(tx, T, P)) == []


@pytest.mark.parametrize(
    ("steps", "refused"),
    [
        (["create", "check_in", "check_in"], "check_in"),
        (["create", "check_out"], "check_out"),  # never checked in
        (["create", "check_in", "cancel"], "cancel"),
        (["create", "cancel", "cancel"], "cancel"),
        (["create", "check_in", "check_out", "check_in"], "check_in"),
        (["create", "create"], "create"),
    ],
)
async def test_impossible_transitions_raise(
    ops: Operations, steps: list[str], refused: str
) -> None:
    make = {
        "create": lambda: ops.booking_created(created()),
        "check_in": lambda: ops.guest_checked_in(checked_in()),
        "check_out": lambda: ops.guest_checked_out(checked_out()),
        "cancel": lambda: ops.booking_cancelled(cancelled()),
    }
    for step in steps[:-1]:
        await make[step]()
    assert steps[-1] == refused
    with pytest.raises(TransitionError):
        await make[refused]()


async def test_events_for_an_unknown_booking_are_dead_lettered(ops: Operations) -> None:
    with pytest.raises(UnknownEntityError, match="B-404"):
        await ops.guest_checked_in(checked_in("B-404"))


async def test_a_booking_belongs_to_one_property(ops: Operations) -> None:
    await ops.booking_created(created())
    elsewhere = GuestCheckedIn.new(
        tenant_id=T,
        property_id="porto-2",
        booking_id="B-1",
        guest_id="G-1",
        unit_id="204",
        checked_in_at=NOON,
    )
    with pytest.raises(TransitionError, match="porto-2"):
        await ops.guest_checked_in(elsewhere)


async def test_redelivered_events_change_nothing(ops: Operations) -> None:
    events: list[Event] = [created(), checked_in(), checked_out()]
    handlers = [ops.booking_created, ops.guest_checked_in, ops.guest_checked_out]
    for handle, event in zip(handlers, events, strict=True):
        await handle(event)  # type: ignore[operator]
    before = booking(ops)
    # At-least-once: the whole sequence again, as after a crash before the commit.
    for handle, event in zip(handlers, events, strict=True):
        await handle(event)  # type: ignore[operator]
    assert booking(ops) == before
    assert len(ops.read(lambda tx: bookings.transitions(tx, T, "B-1"))) == 3
    assert len(ops.read(lambda tx: housekeeping.open_tasks(tx, T, P))) == 1


async def test_tenants_do_not_see_each_others_bookings(ops: Operations) -> None:
    await ops.booking_created(created())
    await ops.booking_created(created(tenant_id="globex", guest_name="Other"))
    await ops.booking_cancelled(cancelled())
    assert booking(ops).status is Status.CANCELLED
    assert booking(ops, tenant="globex").status is Status.CONFIRMED


# -- housekeeping --------------------------------------------------------------------------


async def test_check_out_schedules_a_clean_due_before_the_next_arrival(ops: Operations) -> None:
    await ops.booking_created(created())
    await ops.booking_created(created("B-2", arrival=date(2025, 7, 6), departure=date(2025, 7, 8)))
    await ops.guest_checked_in(checked_in())
    task = await ops.guest_checked_out(checked_out())

    assert task.task_id == "checkout-B-1-204"
    assert task.task_type == "checkout_clean"
    assert task.scheduled_for == date(2025, 7, 4)
    assert task.due_by == datetime(2025, 7, 6, 14, 0, tzinfo=UTC)
    assert task.booking_id == "B-1"


async def test_emitted_task_event_is_stable_across_redelivery(store: Store) -> None:
    sent: list[Event] = []

    async def emit(event: Event) -> None:
        sent.append(event)

    ops = Operations(store, emit=emit)
    await ops.booking_created(created())
    await ops.guest_checked_in(checked_in())
    out = checked_out()
    await ops.guest_checked_out(out)
    await ops.guest_checked_out(out)  # redelivered: applied once, announced again

    assert len(sent) == 2
    first, again = sent
    assert isinstance(first, CleaningTaskScheduled)
    assert first == again  # same event id, same content: downstream de-duplicates
    assert first.meta.causation_id == str(out.meta.event_id)
    assert first.meta.correlation_id == out.meta.correlation_id
    assert first.key == out.key

    # The announcement comes back on the operational queue and is recognised as ours.
    assert await ops.cleaning_task_scheduled(first)
    assert len(ops.read(lambda tx: housekeeping.open_tasks(tx, T, P))) == 1


async def test_a_failed_announcement_is_retried_without_reapplying(store: Store) -> None:
    calls = 0

    async def flaky_emit(event: Event) -> None:
        nonlocal calls
        calls += 1
        if calls == 1:
            raise ConnectionError("broker unreachable")

    ops = Operations(store, emit=flaky_emit)
    await ops.booking_created(created())
    await ops.guest_checked_in(checked_in())
    with pytest.raises(ConnectionError):
        await ops.guest_checked_out(checked_out_event := checked_out())
    await ops.guest_checked_out(checked_out_event)
    assert calls == 2
    assert booking(ops).status is Status.CHECKED_OUT


async def test_completing_a_task(ops: Operations) -> None:
    scheduled = CleaningTaskScheduled.new(
        tenant_id=T,
        property_id=P,
        task_id="T-9",
        unit_id="101",
        task_type="deep_clean",
        scheduled_for=date(2025, 7, 2),
    )
    done = CleaningTaskCompleted.new(
        tenant_id=T,
        property_id=P,
        task_id="T-9",
        unit_id="101",
        completed_by="H-3",
        completed_at=NOON,
        issues=("broken lamp",),
    )
    await ops.cleaning_task_scheduled(scheduled)
    await ops.cleaning_task_completed(done)
    assert await ops.cleaning_task_completed(done) is False  # redelivery
    task = ops.read(lambda tx: housekeeping.get(tx, T, "T-9"))
    assert task is not None
    assert task.status == "completed"
    assert task.issues == ("broken lamp",)

    again = CleaningTaskCompleted.new(
        tenant_id=T,
        property_id=P,
        task_id="T-9",
        unit_id="101",
        completed_by="H-4",
        completed_at=NOON,
    )
    with pytest.raises(TransitionError, match="already completed"):
        await ops.cleaning_task_completed(again)


# -- maintenance ---------------------------------------------------------------------------


def request(
    request_id: str, priority: str, *, blocks: bool, unit: str | None = "301"
) -> MaintenanceRequested:
    return MaintenanceRequested.new(
        tenant_id=T,
        property_id=P,
        request_id=request_id,
        unit_id=unit,
        category="plumbing",
        priority=priority,
        description="Leaking tap",
        reported_by="G-1",
        blocks_unit=blocks,
    )


async def test_maintenance_requests_open_tickets_once(ops: Operations) -> None:
    await ops.maintenance_requested(request("M-1", "normal", blocks=False))
    urgent = request("M-2", "urgent", blocks=True, unit="302")
    await ops.maintenance_requested(urgent)
    await ops.maintenance_requested(urgent)  # redelivered
    tickets = ops.read(lambda tx: maintenance.open_tickets(tx, T, P))
    assert [t.request_id for t in tickets] == ["M-2", "M-1"]
    assert ops.read(lambda tx: maintenance.blocked_units(tx, T, P)) == {"302"}


# -- payments ------------------------------------------------------------------------------


def capture(payment_id: str = "PAY-1", amount: str = "100.00") -> PaymentCaptured:
    return PaymentCaptured.new(
        tenant_id=T,
        property_id=P,
        payment_id=payment_id,
        booking_id="B-1",
        amount=Decimal(amount),
        currency="EUR",
        method="card",
        provider="stripe",
        captured_at=NOON,
    )


def refund(refund_id: str, amount: str, currency: str = "EUR") -> PaymentRefunded:
    return PaymentRefunded.new(
        tenant_id=T,
        property_id=P,
        refund_id=refund_id,
        payment_id="PAY-1",
        booking_id="B-1",
        amount=Decimal(amount),
        currency=currency,
        refunded_at=NOON,
    )


async def test_refunds_add_up_to_at_most_the_capture(ops: Operations) -> None:
    await ops.payment_captured(capture())
    await ops.payment_refunded(first := refund("R-1", "60"))
    await ops.payment_refunded(first)  # redelivered: not counted twice
    await ops.payment_refunded(refund("R-2", "40"))
    with pytest.raises(TransitionError, match="exceeds"):
        await ops.payment_refunded(refund("R-3", "0.01"))
    paid = ops.read(lambda tx: payments.get(tx, T, "PAY-1"))
    assert paid is not None
    assert paid.refunded == Decimal("100.00")
    assert ops.read(lambda tx: payments.booking_balance(tx, T, "B-1")) == {"EUR": Decimal("0")}


async def test_refund_larger_than_the_capture_is_dead_lettered(ops: Operations) -> None:
    await ops.payment_captured(capture(amount="50"))
    with pytest.raises(NonRetryableError):
        await ops.payment_refunded(refund("R-1", "50.01"))


async def test_refund_rules(ops: Operations) -> None:
    with pytest.raises(UnknownEntityError):
        await ops.payment_refunded(refund("R-1", "1"))
    await ops.payment_captured(capture())
    with pytest.raises(TransitionError, match="USD"):
        await ops.payment_refunded(refund("R-1", "1", currency="USD"))
    with pytest.raises(TransitionError, match="already captured"):
        await ops.payment_captured(capture())
