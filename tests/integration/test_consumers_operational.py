"""Contract: the operational deployment (`consumers.operational.app:app`, unchanged) run by
the real worker on a real broker keeps the booking ledger, schedules the clean of a
check-out, and dead-letters impossible business events (check-out of a cancelled booking,
a refund larger than its payment) with reason ``non_retryable`` while the rest flows.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest

from consumers.common import wiring
from consumers.operational import bookings, housekeeping, payments
from frontdesk import headers
from frontdesk.events import (
    BookingCancelled,
    Event,
    GuestCheckedIn,
    GuestCheckedOut,
    PaymentCaptured,
    PaymentRefunded,
)
from tests.integration.worker.harness import drain_all, eventually, header, make_topology, running
from tests.support.events import booking, publish
from tests.support.kafka import Cluster

T = "acme"
NOON = datetime(2025, 7, 4, 11, 0, tzinfo=UTC)


@pytest.fixture
def operational_app(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[object]:
    """The deployment's module, its lazily built store pointed at a fresh SQLite file."""
    monkeypatch.setenv("FRONTDESK_STORE_URL", f"sqlite:///{tmp_path / 'ops.db'}")
    from consumers.operational import app as module

    for cached in (wiring.settings, wiring.store, module.ops):
        cached.cache_clear()
    yield module
    wiring.store().close()
    for cached in (wiring.settings, wiring.store, module.ops):
        cached.cache_clear()


def stay(property_id: str, booking_id: str, *, cancel: bool) -> list[Event]:
    kw = {"tenant_id": T, "property_id": property_id, "booking_id": booking_id}
    events: list[Event] = [booking(booking_id, property_id=property_id, unit_id="204")]
    if cancel:
        events.append(
            BookingCancelled.new(
                **kw, cancelled_by="guest", cancellation_fee=Decimal("0"), currency="EUR"
            )
        )
    else:
        events.append(GuestCheckedIn.new(**kw, guest_id="G-1", unit_id="204", checked_in_at=NOON))
    events.append(
        GuestCheckedOut.new(
            **kw,
            guest_id="G-1",
            unit_id="204",
            checked_out_at=NOON,
            balance_due=Decimal("0"),
            currency="EUR",
        )
    )
    return events


async def test_operational_deployment_on_the_broker(
    kafka: Cluster, operational_app: object
) -> None:
    from consumers.operational import app as module

    topology = make_topology(kafka, partitions=2, tiers="1s")
    main = f"{topology.namespace}.pms.operational"
    money = {"tenant_id": T, "property_id": "p3", "payment_id": "PAY-1", "currency": "EUR"}
    capture = PaymentCaptured.new(
        **money, amount=Decimal("50"), method="card", provider="stripe", captured_at=NOON
    )
    over_refund = PaymentRefunded.new(
        **money, refund_id="R-1", amount=Decimal("80"), refunded_at=NOON
    )
    good = stay("p1", "B-1", cancel=False)
    bad = stay("p2", "B-2", cancel=True)
    publish(kafka.config, main, [*good, *bad, capture, over_refund])

    async with running(module.app, kafka, topology) as worker:
        await eventually(
            lambda: worker.stats()["dead_lettered"] == 2 and worker.stats()["handled"] == 6,
            message="6 events handled and 2 dead-lettered",
        )

    ops = module.ops()
    b1 = ops.read(lambda tx: bookings.get(tx, T, "B-1"))
    b2 = ops.read(lambda tx: bookings.get(tx, T, "B-2"))
    assert b1 is not None
    assert b1.status is bookings.Status.CHECKED_OUT
    assert b2 is not None
    assert b2.status is bookings.Status.CANCELLED
    tasks = ops.read(lambda tx: housekeeping.open_tasks(tx, T, "p1"))
    assert [t.task_id for t in tasks] == ["checkout-B-1-204"]
    assert ops.read(lambda tx: housekeeping.open_tasks(tx, T, "p2")) == []
    paid = ops.read(lambda tx: payments.get(tx, T, "PAY-1"))
    assert paid is not None
    assert paid.refunded == Decimal("0.00")

    letters = {header(m, headers.EVENT_ID): m for m in drain_all(kafka, f"{main}.dlq")}
    assert set(letters) == {str(bad[-1].meta.event_id), str(over_refund.meta.event_id)}
    for letter in letters.values():
        assert header(letter, headers.REASON) == "non_retryable"
        assert header(letter, headers.ERROR_CLASS) == "consumers.common.errors.TransitionError"
        assert header(letter, headers.ATTEMPT) == "1"
