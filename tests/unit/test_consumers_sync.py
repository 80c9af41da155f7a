"""The sync deployment against the fake OTA over real loopback HTTP: pushes and the state
the channel ends up showing, error mapping (500/429/timeout/4xx/refused), idempotency,
coalesced ranges, capacity caps, sync requests and booking confirmations."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from consumers.common.errors import DependencyError, NonRetryableError, RejectedError
from consumers.common.http import retry_after_seconds
from consumers.common.store import Store
from consumers.fakes.ota import FakeOta
from consumers.sync import inventory
from consumers.sync.ota import OtaClient
from consumers.sync.service import ChannelSync
from frontdesk.events import (
    AvailabilityChanged,
    Channel,
    ChannelBookingAcknowledged,
    ChannelSyncRequested,
    RateChanged,
    RoomTypeCapacityChanged,
)
from tests.support.consumers import STORES, open_store
from tests.support.postgres import postgres_dsn  # noqa: F401 - session fixture

T, P, CH = "acme", "lisbon-1", "booking_com"
D = date(2025, 8, 1)
T0 = datetime(2025, 7, 1, 9, 0, tzinfo=UTC)


@pytest.fixture(params=STORES)
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    with open_store(request, tmp_path / "sync.db") as s:
        yield s


@pytest.fixture(scope="module")
def ota() -> Iterator[FakeOta]:
    with FakeOta() as server:
        yield server


@pytest.fixture
def fresh_ota(ota: FakeOta) -> FakeOta:
    ota.recover()
    ota.reset()
    return ota


@pytest.fixture
async def sync(store: Store, fresh_ota: FakeOta) -> AsyncIterator[ChannelSync]:
    client = OtaClient(fresh_ota.url, CH, timeout=0.5)
    yield ChannelSync(store, client)
    await client.aclose()


def availability(
    start: date, end: date, units: int, *, at: datetime = T0, room: str = "DBL", **over: Any
) -> AvailabilityChanged:
    return AvailabilityChanged.new(
        tenant_id=T,
        property_id=P,
        occurred_at=at,
        room_type_id=room,
        start_date=start,
        end_date=end,
        units_available=units,
        closed_to_arrival=over.pop("cta", False),
        closed_to_departure=False,
        **over,
    )


def rate(start: date, end: date, amount: str, *, at: datetime = T0) -> RateChanged:
    return RateChanged.new(
        tenant_id=T,
        property_id=P,
        occurred_at=at,
        room_type_id="DBL",
        rate_plan_id="FLEX",
        start_date=start,
        end_date=end,
        amount=Decimal(amount),
        currency="EUR",
        occupancy=2,
    )


def shown(ota: FakeOta, room: str = "DBL") -> dict[date, int]:
    return {night: v[0] for night, v in ota.availability(CH, T, P, room).items()}


def days(first: int, last: int, value: int) -> dict[date, int]:
    return {D + timedelta(days=i): value for i in range(first, last + 1)}


async def test_availability_reaches_the_channel(sync: ChannelSync, fresh_ota: FakeOta) -> None:
    pushed = await sync.availability_changed(availability(D, D + timedelta(days=2), 5, min_stay=2))
    assert pushed.availability == 1
    (push,) = fresh_ota.pushes
    assert push.kind == "availability"
    assert push.body == {
        "room_type_id": "DBL",
        "start_date": "2025-08-01",
        "end_date": "2025-08-03",
        "units_available": 5,
        "min_stay": 2,
        "closed_to_arrival": False,
        "closed_to_departure": False,
    }
    assert push.idempotency_key
    assert shown(fresh_ota) == days(0, 2, 5)


async def test_rates_reach_the_channel(sync: ChannelSync, fresh_ota: FakeOta) -> None:
    await sync.rate_changed(rate(D, D + timedelta(days=1), "120"))
    assert fresh_ota.rates(CH, T, P, "DBL", rate_plan_id="FLEX", occupancy=2) == {
        D: (Decimal("120.00"), "EUR"),
        D + timedelta(days=1): (Decimal("120.00"), "EUR"),
    }


async def test_redelivery_pushes_the_same_state_again(
    sync: ChannelSync, fresh_ota: FakeOta
) -> None:
    event = availability(D, D, 3)
    await sync.availability_changed(event)
    await sync.availability_changed(event)
    first, again = fresh_ota.pushes
    assert first.body == again.body
    assert first.idempotency_key == again.idempotency_key  # the OTA may drop the repeat
    assert shown(fresh_ota) == {D: 3}


async def test_an_older_event_replayed_late_does_not_roll_the_channel_back(
    sync: ChannelSync, fresh_ota: FakeOta
) -> None:
    await sync.availability_changed(availability(D, D, 1, at=T0 + timedelta(hours=1)))
    await sync.availability_changed(availability(D, D, 9, at=T0))  # e.g. an analyst's replay
    assert shown(fresh_ota) == {D: 1}


# -- error mapping -------------------------------------------------------------------------


async def test_server_error_is_retryable_and_names_the_dependency(
    sync: ChannelSync, fresh_ota: FakeOta
) -> None:
    fresh_ota.fail(500)
    with pytest.raises(DependencyError) as caught:
        await sync.availability_changed(availability(D, D, 2))
    assert caught.value.status == 500
    assert caught.value.dependency == "ota:booking_com"
    assert not isinstance(caught.value, NonRetryableError)


async def test_rate_limit_carries_retry_after(sync: ChannelSync, fresh_ota: FakeOta) -> None:
    fresh_ota.rate_limit(retry_after=7, times=1)
    with pytest.raises(DependencyError) as caught:
        await sync.availability_changed(availability(D, D, 2))
    assert caught.value.status == 429
    assert caught.value.retry_after == 7.0


def test_retry_after_as_an_http_date() -> None:
    now = datetime(2025, 7, 1, 12, 0, 0, tzinfo=UTC)
    assert retry_after_seconds("Tue, 01 Jul 2025 12:00:30 GMT", now=now) == 30.0
    assert retry_after_seconds("garbage", now=now) is None
    assert retry_after_seconds("-5") == 0.0


async def test_timeout_is_retryable(sync: ChannelSync, fresh_ota: FakeOta) -> None:
    fresh_ota.slow(2.0, times=1)  # the client waits 0.5 s
    with pytest.raises(DependencyError, match="timed out"):
        await sync.availability_changed(availability(D, D, 2))


@pytest.mark.parametrize("status", [400, 404, 422])
async def test_client_errors_are_not_retried(
    sync: ChannelSync, fresh_ota: FakeOta, status: int
) -> None:
    fresh_ota.fail(status, times=1)
    with pytest.raises(RejectedError) as caught:
        await sync.availability_changed(availability(D, D, 2))
    assert isinstance(caught.value, NonRetryableError)
    assert caught.value.status == status


async def test_an_unreachable_ota_is_retryable(store: Store) -> None:
    with FakeOta() as gone:
        url = gone.url
    async with OtaClient(url, CH, timeout=0.5) as client:
        with pytest.raises(DependencyError):
            await ChannelSync(store, client).availability_changed(availability(D, D, 2))


async def test_a_failed_push_stays_pending_until_a_retry_succeeds(
    sync: ChannelSync, fresh_ota: FakeOta
) -> None:
    event = availability(D, D + timedelta(days=1), 4)
    fresh_ota.fail(503)
    with pytest.raises(DependencyError):
        await sync.availability_changed(event)
    assert await _pending(sync) == 2
    fresh_ota.recover()
    await sync.availability_changed(event)  # the retry: recorded already, pushes again
    assert await _pending(sync) == 0
    assert shown(fresh_ota) == days(0, 1, 4)


async def _pending(sync: ChannelSync) -> int:
    with sync.store.transaction() as tx:
        runs = inventory.availability_runs(
            tx, sync.channel, inventory.Slice(T, P, pending_only=True)
        )
    return sum(len(r.nights) for r in runs)


# -- coalescing and sync requests ----------------------------------------------------------


async def test_flush_pushes_the_latest_state_as_few_ranges(
    sync: ChannelSync, fresh_ota: FakeOta
) -> None:
    fresh_ota.fail(500)
    changes = [
        availability(D, D + timedelta(days=9), 5, at=T0),
        availability(D + timedelta(days=3), D + timedelta(days=5), 2, at=T0 + timedelta(1)),
        availability(D + timedelta(days=3), D + timedelta(days=5), 5, at=T0 + timedelta(2)),
        availability(D + timedelta(days=8), D + timedelta(days=9), 0, at=T0 + timedelta(3)),
    ]
    for event in changes:
        with pytest.raises(DependencyError):
            await sync.availability_changed(event)
    fresh_ota.recover()
    fresh_ota.reset()

    pushed = await sync.flush()

    # Ten nights, four changes: the channel needs only "5 for 1-8 Aug, 0 for 9-10 Aug".
    assert pushed.availability == 2
    assert [(p.body["start_date"], p.body["end_date"]) for p in fresh_ota.pushes] == [
        ("2025-08-01", "2025-08-08"),
        ("2025-08-09", "2025-08-10"),
    ]
    assert shown(fresh_ota) == days(0, 7, 5) | days(8, 9, 0)
    assert (await sync.flush()).total == 0  # nothing pending any more


def test_coalesce_keeps_groups_gaps_and_values_apart() -> None:
    def row(room: str, night: int, units: int) -> dict[str, Any]:
        return {
            "room_type_id": room,
            "night": (D + timedelta(night)).isoformat(),
            "u": units,
            "event_id": f"e{night}",
        }

    rows = [row("A", 0, 1), row("A", 1, 1), row("A", 3, 1), row("A", 4, 2), row("B", 5, 2)]
    runs = inventory.coalesce(
        rows,
        group=lambda r: r["room_type_id"],
        values=lambda r: r["u"],
        build=lambda r, s, e: (r["room_type_id"], (e - s).days + 1, r["u"]),
    )
    assert [r.update for r in runs] == [("A", 2, 1), ("A", 1, 1), ("A", 1, 2), ("B", 1, 2)]


async def test_sync_request_repushes_the_requested_slice(
    sync: ChannelSync, fresh_ota: FakeOta
) -> None:
    await sync.availability_changed(availability(D, D + timedelta(days=4), 5))
    await sync.availability_changed(availability(D, D + timedelta(days=4), 1, room="SGL"))
    await sync.rate_changed(rate(D, D + timedelta(days=4), "99"))
    fresh_ota.reset()

    request = ChannelSyncRequested.new(
        tenant_id=T,
        property_id=P,
        sync_id="S-1",
        channel="booking_com",
        scopes=("availability", "content"),
        room_type_ids=("DBL",),
        start_date=D + timedelta(days=1),
        end_date=D + timedelta(days=2),
    )
    pushed = await sync.sync_requested(request)
    assert (pushed.availability, pushed.rates) == (1, 0)
    assert pushed.skipped_scopes == ["content"]
    assert shown(fresh_ota) == days(1, 2, 5)
    assert shown(fresh_ota, "SGL") == {}


async def test_sync_requests_for_other_channels_or_nothing_pushable_are_skipped(
    sync: ChannelSync, fresh_ota: FakeOta, caplog: pytest.LogCaptureFixture
) -> None:
    await sync.availability_changed(availability(D, D, 5))
    fresh_ota.reset()
    other = ChannelSyncRequested.new(
        tenant_id=T, property_id=P, sync_id="S-2", channel="expedia", scopes=("full",)
    )
    assert (await sync.sync_requested(other)).total == 0
    for sync_id, scopes in (("S-3", ("content",)), ("S-4", ("content", "bookings"))):
        request = ChannelSyncRequested.new(
            tenant_id=T, property_id=P, sync_id=sync_id, channel="booking_com", scopes=scopes
        )
        with caplog.at_level("INFO", logger="consumers.sync.service"):
            pushed = await sync.sync_requested(request)  # nothing to do here: not an error
        assert pushed.total == 0
        assert pushed.skipped_scopes == sorted(scopes)
        assert f"sync {sync_id} asks only for" in caplog.text
    assert fresh_ota.pushes == []


async def test_a_sync_request_naming_no_scope_is_malformed(
    sync: ChannelSync, fresh_ota: FakeOta
) -> None:
    empty = ChannelSyncRequested.new(
        tenant_id=T, property_id=P, sync_id="S-5", channel="booking_com", scopes=()
    )
    with pytest.raises(NonRetryableError, match="no scope"):
        await sync.sync_requested(empty)
    assert fresh_ota.pushes == []


# -- capacity ------------------------------------------------------------------------------


def capacity(
    total: int, effective: date, *, at: datetime = T0, room: str = "DBL", **over: Any
) -> RoomTypeCapacityChanged:
    return RoomTypeCapacityChanged.new(
        tenant_id=T,
        property_id=P,
        occurred_at=at,
        room_type_id=room,
        total_units=total,
        effective_from=effective,
        **over,
    )


async def test_a_capacity_cut_caps_what_the_channel_shows(
    sync: ChannelSync, fresh_ota: FakeOta
) -> None:
    await sync.availability_changed(availability(D, D + timedelta(days=4), 8))
    before = len(fresh_ota.pushes)

    event = capacity(5, D + timedelta(days=2), at=T0 + timedelta(hours=1), max_occupancy=3)
    pushed = await sync.capacity_changed(event)

    assert pushed.availability == 1  # the three altered nights, as one range
    (push,) = fresh_ota.pushes[before:]
    assert (push.body["start_date"], push.body["end_date"]) == ("2025-08-03", "2025-08-05")
    assert shown(fresh_ota) == days(0, 1, 8) | days(2, 4, 5)
    assert sync.capacity(T, P, "DBL", D) is None
    assert sync.capacity(T, P, "DBL", D + timedelta(days=9)) == 5
    assert (await sync.capacity_changed(event)).total == 0  # redelivered: nothing pending
    assert await _pending(sync) == 0


async def test_availability_above_capacity_is_capped(sync: ChannelSync, fresh_ota: FakeOta) -> None:
    await sync.capacity_changed(capacity(4, D))
    assert fresh_ota.pushes == []  # nothing in the mirror yet, nothing to cap
    await sync.availability_changed(availability(D, D + timedelta(days=2), 9, at=T0 + timedelta(1)))
    await sync.availability_changed(availability(D + timedelta(days=3), D + timedelta(days=3), 2))
    assert shown(fresh_ota) == days(0, 2, 4) | {D + timedelta(days=3): 2}
    assert shown(fresh_ota, "SGL") == {}  # other room types are not capped


async def test_capacity_changes_are_last_write_wins_per_night(
    sync: ChannelSync, fresh_ota: FakeOta
) -> None:
    await sync.availability_changed(availability(D, D + timedelta(days=3), 8))
    await sync.capacity_changed(capacity(3, D, at=T0 + timedelta(hours=2)))
    # An older statement replayed late does not undo the newer one...
    assert (await sync.capacity_changed(capacity(6, D, at=T0 + timedelta(hours=1)))).total == 0
    assert shown(fresh_ota) == days(0, 3, 3)
    # ...and a newer one for later nights raises them again, up to the availability.
    await sync.capacity_changed(capacity(10, D + timedelta(days=2), at=T0 + timedelta(hours=3)))
    assert shown(fresh_ota) == days(0, 1, 3) | days(2, 3, 8)


async def test_a_capacity_change_during_an_outage_waits_for_the_flush(
    sync: ChannelSync, fresh_ota: FakeOta
) -> None:
    await sync.availability_changed(availability(D, D + timedelta(days=1), 6))
    fresh_ota.fail(503)
    with pytest.raises(DependencyError):
        await sync.capacity_changed(capacity(2, D, at=T0 + timedelta(hours=1)))
    assert await _pending(sync) == 2
    fresh_ota.recover()
    assert (await sync.flush()).availability == 1
    assert shown(fresh_ota) == days(0, 1, 2)
    assert await _pending(sync) == 0


# -- booking acknowledgements --------------------------------------------------------------


def ack(status: str, reference: str = "BK-778") -> ChannelBookingAcknowledged:
    return ChannelBookingAcknowledged.new(
        tenant_id=T,
        property_id=P,
        booking_id="B-1",
        channel=Channel.BOOKING_COM,
        channel_reference=reference,
        status=status,
        acknowledged_at=T0,
    )


async def test_accepted_bookings_are_confirmed_once(sync: ChannelSync, fresh_ota: FakeOta) -> None:
    event = ack("accepted")
    assert (await sync.booking_acknowledged(event)).confirmations == 1
    assert (await sync.booking_acknowledged(event)).confirmations == 0  # redelivered
    (push,) = fresh_ota.pushes
    assert push.kind == "confirmation"
    assert fresh_ota.confirmations[(CH, T, "BK-778")].booking_id == "B-1"
    row = sync.booking_ack(T, "BK-778")
    assert row is not None
    assert row["confirmed"]


async def test_rejected_bookings_are_recorded_not_confirmed(
    sync: ChannelSync, fresh_ota: FakeOta
) -> None:
    assert (await sync.booking_acknowledged(ack("rejected", "BK-9"))).total == 0
    assert fresh_ota.pushes == []
    row = sync.booking_ack(T, "BK-9")
    assert row is not None
    assert row["status"] == "rejected"


async def test_a_failed_confirmation_is_retried(sync: ChannelSync, fresh_ota: FakeOta) -> None:
    fresh_ota.fail(502, times=1)
    with pytest.raises(DependencyError):
        await sync.booking_acknowledged(ack("accepted"))
    assert (await sync.booking_acknowledged(ack("accepted"))).confirmations == 1
