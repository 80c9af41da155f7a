"""The fallback deployment's degraded paths: channel changes recorded while the OTA is down
and pushed as coalesced latest state when it recovers; messages through a secondary
provider or the outbox; follow-ups for a person."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from consumers.automation.dispatch import Dispatcher
from consumers.automation.provider import MessagingClient
from consumers.automation.templates import TemplateError, Templates
from consumers.common.settings import DEFAULT_TEMPLATES
from consumers.common.store import Store
from consumers.fakes.messaging import FakeMessaging
from consumers.fakes.ota import FakeOta
from consumers.fallback.followups import FollowUps
from consumers.fallback.messages import DeferredMessages
from consumers.fallback.pushes import DeferredPushes
from consumers.sync.ota import OtaClient
from consumers.sync.service import ChannelSync
from frontdesk.events import AvailabilityChanged, MaintenanceRequested, NotificationRequested

T, P, CH = "acme", "lisbon-1", "booking_com"
D = date(2025, 8, 1)
T0 = datetime(2025, 7, 1, 9, 0, tzinfo=UTC)


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    s = Store(f"sqlite:///{tmp_path / 'fallback.db'}")
    yield s
    s.close()


# -- channel pushes ------------------------------------------------------------------------


@pytest.fixture
def ota() -> Iterator[FakeOta]:
    with FakeOta() as server:
        yield server


@pytest.fixture
async def pushes(store: Store, ota: FakeOta) -> AsyncIterator[DeferredPushes]:
    async with OtaClient(ota.url, CH, timeout=0.5) as client:
        yield DeferredPushes(ChannelSync(store, client))


def availability(
    first: int, last: int, units: int, minute: int, room: str = "DBL"
) -> AvailabilityChanged:
    return AvailabilityChanged.new(
        tenant_id=T,
        property_id=P,
        occurred_at=T0 + timedelta(minutes=minute),
        room_type_id=room,
        start_date=D + timedelta(days=first),
        end_date=D + timedelta(days=last),
        units_available=units,
        closed_to_arrival=False,
        closed_to_departure=False,
    )


async def test_changes_during_an_outage_go_out_as_the_latest_state(
    pushes: DeferredPushes, ota: FakeOta
) -> None:
    # A busy morning while the OTA is down: bookings and cancellations move availability.
    changes = [
        availability(0, 13, 6, 0),
        *(availability(d, d, 5 - d % 2, 1 + d) for d in range(0, 7)),  # alternating 5/4
        *(availability(d, d, 6, 10 + d) for d in range(0, 7)),  # ...and back to 6
        availability(0, 1, 2, 30, room="SGL"),
    ]
    ota.fail(503)
    for event in changes:
        await pushes.record(event)
        assert await pushes.drain() is None  # still down: nothing lost, nothing raised
    assert ota.pushes == []

    ota.recover()
    done = await pushes.drain()

    assert done is not None
    assert done.availability == 2  # 16 changes, two ranges: DBL 1-14 Aug, SGL 1-2 Aug
    assert sorted((p.body["room_type_id"], p.body["start_date"], p.body["end_date"],
                   p.body["units_available"]) for p in ota.pushes) == [
        ("DBL", "2025-08-01", "2025-08-14", 6),
        ("SGL", "2025-08-01", "2025-08-02", 2),
    ]  # fmt: skip
    again = await pushes.drain()
    assert again is not None
    assert again.total == 0


async def test_a_redelivered_diverted_change_is_recorded_once(
    pushes: DeferredPushes, ota: FakeOta
) -> None:
    older, newer = availability(0, 0, 3, 0), availability(0, 0, 1, 5)
    await pushes.record(newer)
    await pushes.record(older)  # out of order and
    await pushes.record(newer)  # twice
    await pushes.drain()
    assert ota.availability(CH, T, P, "DBL") == {D: (1, None, False, False)}


# -- messages ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def primary() -> Iterator[FakeMessaging]:
    with FakeMessaging(name="primary") as server:
        yield server


@pytest.fixture(scope="module")
def secondary() -> Iterator[FakeMessaging]:
    with FakeMessaging(name="secondary") as server:
        yield server


@pytest.fixture
async def dispatcher(store: Store, primary: FakeMessaging) -> AsyncIterator[Dispatcher]:
    primary.recover()
    async with MessagingClient(primary.url, timeout=0.5) as client:
        yield Dispatcher(store, Templates(DEFAULT_TEMPLATES), client)


def notification(notification_id: str, **over: Any) -> NotificationRequested:
    fields: dict[str, Any] = {
        "tenant_id": T,
        "property_id": P,
        "notification_id": notification_id,
        "recipient": "+351900000000",
        "channel": "sms",
        "template_id": "checkout_reminder",
        "variables": {"guest_name": "Ana", "checkout_time": "11:00"},
    }
    return NotificationRequested.new(**(fields | over))


def refs(server: FakeMessaging) -> list[str]:
    return [d.message.reference for d in server.delivered]


async def test_the_outbox_waits_for_the_primary(
    dispatcher: Dispatcher, primary: FakeMessaging
) -> None:
    deferred = DeferredMessages(dispatcher)
    outcome = await deferred.defer(notification("F-1"), reason="messaging:primary 503")
    assert outcome.status == "deferred"
    assert outcome.message.note == "messaging:primary 503"
    assert "F-1" not in refs(primary)

    primary.fail(503)
    assert await deferred.drain() == 0  # still down
    primary.recover()
    assert await deferred.drain() == 1
    assert await deferred.drain() == 0
    assert refs(primary).count("F-1") == 1
    sent = dispatcher.message(T, "F-1")
    assert sent is not None
    assert (sent.status, sent.provider) == ("sent", "primary")


async def test_a_secondary_provider_sends_at_once(
    dispatcher: Dispatcher, primary: FakeMessaging, secondary: FakeMessaging
) -> None:
    async with MessagingClient(secondary.url, name="secondary", timeout=0.5) as client:
        deferred = DeferredMessages(dispatcher, client)
        outcome = await deferred.defer(notification("F-2"), reason="primary down")
        assert (outcome.status, outcome.message.provider) == ("sent", "secondary")
        again = await deferred.defer(notification("F-2"), reason="primary down")
        assert again.status == "already_sent"

        secondary.fail(500, times=1)
        fallback = await deferred.defer(notification("F-3"), reason="primary down")
        assert fallback.status == "deferred"  # both down: the outbox
    assert refs(secondary).count("F-2") == 1
    assert "F-3" not in refs(secondary)


async def test_a_refused_outbox_message_does_not_block_the_rest(
    dispatcher: Dispatcher, primary: FakeMessaging
) -> None:
    deferred = DeferredMessages(dispatcher)
    await deferred.defer(notification("F-4"), reason="down")
    await deferred.defer(notification("F-5"), reason="down")
    primary.fail(400, times=1)
    assert await deferred.drain() == 1
    refused = dispatcher.message(T, "F-4")
    assert refused is not None
    assert refused.status == "refused"
    assert "F-5" in refs(primary)


async def test_the_fallback_refuses_unknown_templates_too(dispatcher: Dispatcher) -> None:
    with pytest.raises(TemplateError):
        await DeferredMessages(dispatcher).defer(notification("F-6", template_id="x"), "down")


# -- follow-ups ----------------------------------------------------------------------------


def test_follow_ups_are_kept_once_until_resolved(store: Store) -> None:
    follow_ups = FollowUps(store)
    event = MaintenanceRequested.new(
        tenant_id=T,
        property_id=P,
        request_id="M-1",
        category="locks",
        priority="urgent",
        description="Smart lock offline",
        reported_by="G-1",
        blocks_unit=True,
        unit_id="204",
    )
    assert follow_ups.record(event, reason="breaker open", dependency="locks:acme")
    assert not follow_ups.record(event, reason="breaker open", dependency="locks:acme")
    (open_one,) = follow_ups.open(T)
    assert (open_one.event_type, open_one.dependency) == ("MaintenanceRequested", "locks:acme")
    assert '"request_id":"M-1"' in open_one.payload
    assert follow_ups.open("globex") == []
    assert follow_ups.resolve(T, open_one.event_id, by="ops@acme")
    assert follow_ups.open(T) == []
