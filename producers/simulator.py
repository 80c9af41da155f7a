"""PMS traffic simulator: realistic, reproducible event streams for demos and load tests.

Properties live through booking lifecycles in causal order (created -> modified -> checked
in -> checked out -> cleaning scheduled -> cleaning completed), each step built with
`cause=` so causation and correlation ids link the story, interleaved with payments, guest
messages, notifications, availability and rate changes, channel syncs, capacity changes
and maintenance. Tenants are the topology's (the dedicated one included) plus generated
pooled ones. Everything, event ids and times included, derives from the seed: the same
seed gives the same events, byte for byte.
"""

from __future__ import annotations

import random
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

from frontdesk.events import (
    AvailabilityChanged,
    BookingCreated,
    BookingModified,
    BookingStatus,
    Channel,
    ChannelSyncRequested,
    CleaningTaskCompleted,
    CleaningTaskScheduled,
    CleaningType,
    Event,
    GuestCheckedIn,
    GuestCheckedOut,
    GuestMessageReceived,
    GuestMessageSent,
    MaintenanceCategory,
    MaintenancePriority,
    MaintenanceRequested,
    MessageChannel,
    NotificationRequested,
    PaymentCaptured,
    PaymentMethod,
    RateChanged,
    RoomTypeCapacityChanged,
    SyncScope,
)
from frontdesk.producer import Producer
from frontdesk.topology import Topology

START = datetime(2025, 6, 1, 8, 0, tzinfo=UTC)
"""Simulated clock origin: fixed, so a seed fully determines every timestamp."""
ROOM_TYPES = ("STD", "DBL", "FAM", "STE")
GUESTS = ("Ana Silva", "Jonas Berg", "Mei Tanaka", "Omar Haddad", "Lucia Rossi", "Sam Okafor")
CURRENCIES = ("EUR", "USD", "GBP", "CHF")
STAGES = ("modify", "check_in", "check_out", "clean", "cleaned")


@dataclass
class _Stay:
    booking: BookingCreated
    last: Event
    stage: int = 0
    unit: str = ""


@dataclass
class _Property:
    tenant: str
    property_id: str
    currency: str
    stays: list[_Stay] = field(default_factory=list)
    bookings: int = 0


def tenant_ids(topology: Topology, count: int) -> list[str]:
    """`count` tenants: the topology's (dedicated first), then generated pooled ones."""
    declared = [t.id for t in topology.dedicated_tenants()]
    declared += [t.id for t in topology.tenants if t.id not in declared]
    generated = (f"sim-tenant-{i:03d}" for i in range(count))
    return (declared + [t for t in generated if t not in declared])[:count]


class Simulation:
    """An endless, seeded stream of plausible PMS events over tenants x properties."""

    def __init__(self, tenants: list[str], properties: int, seed: int) -> None:
        if not tenants or properties < 1:
            raise ValueError("a simulation needs at least one tenant and one property")
        self.rng = random.Random(seed)
        self.clock = START
        self.properties = [
            _Property(t, f"{t}-p{j:03d}", self.rng.choice(CURRENCIES))
            for t in tenants
            for j in range(properties)
        ]
        self._counter = 0

    def events(self, count: int | None = None) -> Iterator[Event]:
        """The next `count` events (forever when None)."""
        produced = 0
        while count is None or produced < count:
            yield self.next_event()
            produced += 1

    def next_event(self) -> Event:
        rng = self.rng
        self.clock += timedelta(seconds=rng.randint(1, 90))
        prop = rng.choice(self.properties)
        roll = rng.random()
        if prop.stays and roll < 0.55:
            return self._advance(prop, rng.choice(prop.stays))
        if roll < 0.72:
            return self._book(prop)
        side = (
            self._availability,
            self._rate,
            self._sync,
            self._message,
            self._notification,
            self._maintenance,
            self._capacity,
        )
        return rng.choice(side)(prop)

    # -- envelope ----------------------------------------------------------------------
    def _meta(self, prop: _Property) -> dict[str, Any]:
        self._counter += 1
        return {
            "tenant_id": prop.tenant,
            "property_id": prop.property_id,
            "event_id": uuid.UUID(int=self.rng.getrandbits(128), version=4),
            "occurred_at": self.clock,
            "source": "simulator",
        }

    def _caused(self, stay: _Stay) -> dict[str, Any]:
        meta = self._meta(_Property(stay.last.meta.tenant_id, stay.last.meta.property_id, ""))
        meta.update(cause=stay.last, tenant_id=None, property_id=None)
        return meta

    def _id(self, prefix: str) -> str:
        return f"{prefix}-{self.rng.getrandbits(40):010x}"

    # -- booking lifecycle -------------------------------------------------------------
    def _book(self, prop: _Property) -> Event:
        rng = self.rng
        arrival = self.clock.date() + timedelta(days=rng.randint(0, 60))
        booking = BookingCreated.new(
            **self._meta(prop),
            booking_id=self._id("B"),
            room_type_id=rng.choice(ROOM_TYPES),
            guest_id=self._id("G"),
            guest_name=rng.choice(GUESTS),
            arrival=arrival,
            departure=arrival + timedelta(days=rng.randint(1, 10)),
            adults=rng.randint(1, 3),
            children=rng.randint(0, 2),
            channel=rng.choice(list(Channel)),
            status=BookingStatus.CONFIRMED,
            total_amount=Decimal(rng.randint(8000, 250000)) / 100,
            currency=prop.currency,
            special_requests=rng.choice([None, None, "late arrival", "baby cot"]),
        )
        prop.bookings += 1
        if len(prop.stays) < 20:
            prop.stays.append(
                _Stay(booking, booking, unit=f"{rng.randint(1, 5)}{rng.randint(1, 40):02d}")
            )
        return booking

    def _advance(self, prop: _Property, stay: _Stay) -> Event:
        rng = self.rng
        b = stay.booking
        stage = STAGES[stay.stage]
        if stage == "modify" and rng.random() < 0.5:
            stay.stage += 1  # most bookings are never modified
            stage = STAGES[stay.stage]
        event: Event
        if stage == "modify":
            event = BookingModified.new(
                **self._caused(stay),
                booking_id=b.booking_id,
                room_type_id=b.room_type_id,
                arrival=b.arrival,
                departure=b.departure + timedelta(days=1),
                adults=b.adults,
                children=b.children,
                total_amount=b.total_amount + Decimal("50.00"),
                currency=b.currency,
                changed_fields=("departure", "total_amount"),
                reason="guest extended the stay",
            )
        elif stage == "check_in":
            event = GuestCheckedIn.new(
                **self._caused(stay),
                booking_id=b.booking_id,
                guest_id=b.guest_id,
                unit_id=stay.unit,
                checked_in_at=self.clock,
            )
        elif stage == "check_out":
            event = GuestCheckedOut.new(
                **self._caused(stay),
                booking_id=b.booking_id,
                guest_id=b.guest_id,
                unit_id=stay.unit,
                checked_out_at=self.clock,
                balance_due=Decimal("0.00"),
                currency=b.currency,
            )
        elif stage == "clean":
            event = CleaningTaskScheduled.new(
                **self._caused(stay),
                task_id=f"T-{b.booking_id}",
                unit_id=stay.unit,
                task_type=CleaningType.CHECKOUT_CLEAN,
                scheduled_for=self.clock.date(),
                booking_id=b.booking_id,
            )
        else:
            event = CleaningTaskCompleted.new(
                **self._caused(stay),
                task_id=f"T-{b.booking_id}",
                unit_id=stay.unit,
                completed_by=self._id("staff"),
                completed_at=self.clock,
                duration_minutes=rng.randint(20, 90),
            )
            prop.stays.remove(stay)
        if rng.random() < 0.15 and stage in ("modify", "check_in"):
            event = PaymentCaptured.new(
                **self._caused(stay),
                payment_id=self._id("PAY"),
                booking_id=b.booking_id,
                amount=b.total_amount,
                currency=b.currency,
                method=rng.choice(list(PaymentMethod)),
                provider="stripe",
                captured_at=self.clock,
            )
            stay.last = event
            return event  # the payment happens now; the stage step comes later
        stay.last = event
        stay.stage += 1
        return event

    # -- everything around the bookings --------------------------------------------------
    def _dates(self) -> tuple[date, date]:
        start = self.clock.date() + timedelta(days=self.rng.randint(0, 90))
        return start, start + timedelta(days=self.rng.randint(0, 14))

    def _availability(self, prop: _Property) -> Event:
        start, end = self._dates()
        return AvailabilityChanged.new(
            **self._meta(prop),
            room_type_id=self.rng.choice(ROOM_TYPES),
            start_date=start,
            end_date=end,
            units_available=self.rng.randint(0, 12),
            closed_to_arrival=self.rng.random() < 0.1,
            closed_to_departure=False,
        )

    def _rate(self, prop: _Property) -> Event:
        start, end = self._dates()
        return RateChanged.new(
            **self._meta(prop),
            room_type_id=self.rng.choice(ROOM_TYPES),
            rate_plan_id=self.rng.choice(("BAR", "NR", "BB")),
            start_date=start,
            end_date=end,
            amount=Decimal(self.rng.randint(6000, 40000)) / 100,
            currency=prop.currency,
            occupancy=self.rng.randint(1, 4),
        )

    def _sync(self, prop: _Property) -> Event:
        return ChannelSyncRequested.new(
            **self._meta(prop),
            sync_id=self._id("SYNC"),
            channel=self.rng.choice((Channel.BOOKING_COM, Channel.EXPEDIA, Channel.AIRBNB)),
            scopes=(self.rng.choice(list(SyncScope)),),
        )

    def _message(self, prop: _Property) -> Event:
        stay = self.rng.choice(prop.stays) if prop.stays else None
        common = {
            "message_id": self._id("MSG"),
            "conversation_id": f"C-{stay.booking.booking_id}" if stay else self._id("C"),
            "booking_id": stay.booking.booking_id if stay else None,
            "guest_id": stay.booking.guest_id if stay else None,
            "channel": self.rng.choice(list(MessageChannel)),
        }
        if self.rng.random() < 0.5:
            return GuestMessageReceived.new(
                **self._meta(prop), **common, body="What time is check-in?", received_at=self.clock
            )
        return GuestMessageSent.new(
            **self._meta(prop),
            **common,
            body="Check-in is from 15:00. Welcome!",
            sent_by="concierge-bot",
            sent_at=self.clock,
        )

    def _notification(self, prop: _Property) -> Event:
        return NotificationRequested.new(
            **self._meta(prop),
            notification_id=self._id("N"),
            recipient="guest@example.com",
            channel=MessageChannel.EMAIL,
            template_id=self.rng.choice(("pre-arrival", "review-request", "door-code")),
            variables={"property": prop.property_id},
            send_at=self.clock + timedelta(hours=self.rng.randint(1, 48)),
        )

    def _maintenance(self, prop: _Property) -> Event:
        return MaintenanceRequested.new(
            **self._meta(prop),
            request_id=self._id("M"),
            unit_id=f"{self.rng.randint(1, 5)}{self.rng.randint(1, 40):02d}",
            category=self.rng.choice(list(MaintenanceCategory)),
            priority=self.rng.choice(list(MaintenancePriority)),
            description="Reported by housekeeping",
            reported_by=self._id("staff"),
            blocks_unit=self.rng.random() < 0.2,
        )

    def _capacity(self, prop: _Property) -> Event:
        total = self.rng.randint(4, 40)
        return RoomTypeCapacityChanged.new(
            **self._meta(prop),
            room_type_id=self.rng.choice(ROOM_TYPES),
            total_units=total,
            previous_total_units=total - 1,
            effective_from=self.clock.date(),
        )


@dataclass
class Summary:
    """What a run sent: counts per event type, queue and tenant, and the rate."""

    by_type: Counter[str] = field(default_factory=Counter)
    by_queue: Counter[str] = field(default_factory=Counter)
    by_tenant: Counter[str] = field(default_factory=Counter)
    elapsed: float = 0.0

    @property
    def total(self) -> int:
        return sum(self.by_type.values())

    @property
    def rate(self) -> float:
        return self.total / self.elapsed if self.elapsed else 0.0

    def count(self, event: Event) -> None:
        self.by_type[event.event_type] += 1
        self.by_queue[event.queue.value] += 1
        self.by_tenant[event.meta.tenant_id] += 1


def run(
    producer: Producer,
    events: Iterator[Event],
    *,
    rate: float | None = None,
    duration: float | None = None,
    on_sent: Callable[[Event], None] | None = None,
) -> Summary:
    """Send `events` (paced at `rate`/s, stopping after `duration` s if given), then flush.

    Returns only once every sent event is confirmed; a failure raises `DeliveryError`.
    """
    summary = Summary()
    began = time.monotonic()
    for n, event in enumerate(events):
        now = time.monotonic() - began
        if duration is not None and now >= duration:
            break
        if rate is not None and (ahead := n / rate - now) > 0:
            time.sleep(ahead)
        producer.send(event)
        summary.count(event)
        if on_sent is not None:
            on_sent(event)
    producer.flush()
    summary.elapsed = time.monotonic() - began
    return summary


__all__ = ["Simulation", "Summary", "run", "tenant_ids"]
