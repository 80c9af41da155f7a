"""The booking ledger: one row per booking, moved through its life by events.

Every change is checked against `ALLOWED`: a booking is created once, modified or
cancelled while booked, checked in from booked, checked out only after check-in. An event
asking for anything else (check-out of a cancelled booking, a second BookingCreated) is a
business error, not a hiccup, so it raises `TransitionError` and goes to the DLQ for a
person to look at. Every applied change is appended to ``booking_transitions``.

The functions take an open `Tx`; `consumers.operational.service` claims the event id in the
same transaction, so a redelivered event changes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from enum import StrEnum
from typing import Any

from consumers.common.errors import TransitionError, UnknownEntityError
from consumers.common.store import Row, Tx, iso
from frontdesk.events import (
    BookingCancelled,
    BookingCreated,
    BookingModified,
    Event,
    GuestCheckedIn,
    GuestCheckedOut,
)


class Status(StrEnum):
    """Where a booking is in its life."""

    TENTATIVE = "tentative"
    CONFIRMED = "confirmed"
    CANCELLED = "cancelled"
    CHECKED_IN = "checked_in"
    CHECKED_OUT = "checked_out"


BOOKED = frozenset({Status.TENTATIVE, Status.CONFIRMED})

ALLOWED: dict[str, frozenset[Status]] = {
    BookingModified.event_type: BOOKED | {Status.CHECKED_IN},  # stays get extended too
    BookingCancelled.event_type: BOOKED,
    GuestCheckedIn.event_type: BOOKED,
    GuestCheckedOut.event_type: frozenset({Status.CHECKED_IN}),
}
"""The statuses each event may start from; BookingCreated needs no booking at all."""

MIGRATIONS = (
    """
    CREATE TABLE IF NOT EXISTS bookings (
        tenant_id TEXT NOT NULL,
        booking_id TEXT NOT NULL,
        property_id TEXT NOT NULL,
        status TEXT NOT NULL,
        room_type_id TEXT NOT NULL,
        unit_id TEXT,
        guest_id TEXT NOT NULL,
        guest_name TEXT NOT NULL,
        arrival TEXT NOT NULL,
        departure TEXT NOT NULL,
        adults INTEGER NOT NULL,
        children INTEGER NOT NULL,
        channel TEXT NOT NULL,
        channel_reference TEXT,
        total_amount TEXT NOT NULL,
        currency TEXT NOT NULL,
        cancellation_fee TEXT,
        checked_in_at TEXT,
        checked_out_at TEXT,
        balance_due TEXT,
        updated_at TEXT NOT NULL,
        last_event_id TEXT NOT NULL,
        PRIMARY KEY (tenant_id, booking_id)
    )
    """,
    """
    CREATE TABLE IF NOT EXISTS booking_transitions (
        event_id TEXT PRIMARY KEY,
        tenant_id TEXT NOT NULL,
        booking_id TEXT NOT NULL,
        seq INTEGER NOT NULL,
        event_type TEXT NOT NULL,
        from_status TEXT,
        to_status TEXT NOT NULL,
        occurred_at TEXT NOT NULL
    )
    """,
    "CREATE INDEX IF NOT EXISTS bookings_by_unit "
    "ON bookings (tenant_id, property_id, unit_id, arrival)",
)


@dataclass(frozen=True, slots=True)
class Booking:
    """A booking as the ledger holds it."""

    tenant_id: str
    booking_id: str
    property_id: str
    status: Status
    room_type_id: str
    unit_id: str | None
    arrival: date
    departure: date
    total_amount: Decimal
    currency: str
    balance_due: Decimal | None

    @classmethod
    def from_row(cls, row: Row) -> Booking:
        return cls(
            tenant_id=row["tenant_id"],
            booking_id=row["booking_id"],
            property_id=row["property_id"],
            status=Status(row["status"]),
            room_type_id=row["room_type_id"],
            unit_id=row["unit_id"],
            arrival=date.fromisoformat(row["arrival"]),
            departure=date.fromisoformat(row["departure"]),
            total_amount=Decimal(row["total_amount"]),
            currency=row["currency"],
            balance_due=None if row["balance_due"] is None else Decimal(row["balance_due"]),
        )


def get(tx: Tx, tenant_id: str, booking_id: str) -> Booking | None:
    row = tx.one(
        "SELECT * FROM bookings WHERE tenant_id = ? AND booking_id = ?", (tenant_id, booking_id)
    )
    return None if row is None else Booking.from_row(row)


def create(tx: Tx, event: BookingCreated) -> None:
    meta = event.meta
    existing = get(tx, meta.tenant_id, event.booking_id)
    if existing is not None:
        raise TransitionError(
            f"booking {event.booking_id} already exists ({existing.status}); "
            f"a second BookingCreated ({meta.event_id}) cannot replace it"
        )
    status = Status.CONFIRMED if event.status == "confirmed" else Status.TENTATIVE
    tx.execute(
        """
        INSERT INTO bookings (tenant_id, booking_id, property_id, status, room_type_id, unit_id,
            guest_id, guest_name, arrival, departure, adults, children, channel,
            channel_reference, total_amount, currency, updated_at, last_event_id)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
        """,
        (
            meta.tenant_id,
            event.booking_id,
            meta.property_id,
            status.value,
            event.room_type_id,
            event.unit_id,
            event.guest_id,
            event.guest_name,
            event.arrival.isoformat(),
            event.departure.isoformat(),
            event.adults,
            event.children,
            event.channel.value,
            event.channel_reference,
            str(event.total_amount),
            event.currency,
            iso(meta.occurred_at),
            str(meta.event_id),
        ),
    )
    _log(tx, event, event.booking_id, None, status)


def modify(tx: Tx, event: BookingModified) -> None:
    booking = _require(tx, event, event.booking_id)
    _update(
        tx,
        event,
        booking,
        booking.status,
        room_type_id=event.room_type_id,
        unit_id=event.unit_id,
        arrival=event.arrival.isoformat(),
        departure=event.departure.isoformat(),
        adults=event.adults,
        children=event.children,
        total_amount=str(event.total_amount),
        currency=event.currency,
    )


def cancel(tx: Tx, event: BookingCancelled) -> None:
    booking = _require(tx, event, event.booking_id)
    _update(tx, event, booking, Status.CANCELLED, cancellation_fee=str(event.cancellation_fee))


def check_in(tx: Tx, event: GuestCheckedIn) -> None:
    booking = _require(tx, event, event.booking_id)
    _update(
        tx,
        event,
        booking,
        Status.CHECKED_IN,
        unit_id=event.unit_id,
        checked_in_at=iso(event.checked_in_at),
    )


def check_out(tx: Tx, event: GuestCheckedOut) -> None:
    booking = _require(tx, event, event.booking_id)
    if booking.unit_id is not None and booking.unit_id != event.unit_id:
        raise TransitionError(
            f"booking {booking.booking_id} is in unit {booking.unit_id}, "
            f"but the check-out releases unit {event.unit_id}"
        )
    _update(
        tx,
        event,
        booking,
        Status.CHECKED_OUT,
        unit_id=event.unit_id,
        checked_out_at=iso(event.checked_out_at),
        balance_due=str(event.balance_due),
    )


def next_arrival(
    tx: Tx, tenant_id: str, property_id: str, unit_id: str, on_or_after: date
) -> date | None:
    """The first arrival still booked into ``unit_id`` from ``on_or_after`` on."""
    row = tx.one(
        "SELECT MIN(arrival) AS arrival FROM bookings "
        "WHERE tenant_id = ? AND property_id = ? AND unit_id = ? AND arrival >= ? "
        "AND status IN ('tentative', 'confirmed')",
        (tenant_id, property_id, unit_id, on_or_after.isoformat()),
    )
    return None if row is None or row["arrival"] is None else date.fromisoformat(row["arrival"])


def _require(tx: Tx, event: Event, booking_id: str) -> Booking:
    meta = event.meta
    booking = get(tx, meta.tenant_id, booking_id)
    if booking is None:
        raise UnknownEntityError(
            f"{event.event_type} {meta.event_id} refers to booking {booking_id}, "
            f"which tenant {meta.tenant_id} never created"
        )
    if booking.property_id != meta.property_id:
        raise TransitionError(
            f"booking {booking_id} belongs to property {booking.property_id}, "
            f"not {meta.property_id}"
        )
    allowed = ALLOWED[event.event_type]
    if booking.status not in allowed:
        raise TransitionError(
            f"{event.event_type} is impossible for booking {booking_id}: it is "
            f"{booking.status}, and only {', '.join(sorted(allowed))} allow it"
        )
    return booking


def _update(tx: Tx, event: Event, booking: Booking, to: Status, **columns: Any) -> None:
    columns |= {
        "status": to.value,
        "updated_at": iso(event.meta.occurred_at),
        "last_event_id": str(event.meta.event_id),
    }
    assignments = ", ".join(f"{name} = ?" for name in columns)
    tx.execute(
        f"UPDATE bookings SET {assignments} WHERE tenant_id = ? AND booking_id = ?",
        (*columns.values(), booking.tenant_id, booking.booking_id),
    )
    _log(tx, event, booking.booking_id, booking.status, to)


def _log(tx: Tx, event: Event, booking_id: str, before: Status | None, after: Status) -> None:
    # seq numbers a booking's changes in the order they were applied; occurred_at cannot,
    # as two events may share a millisecond.
    tx.execute(
        "INSERT INTO booking_transitions (event_id, tenant_id, booking_id, seq, event_type, "
        "from_status, to_status, occurred_at) VALUES (?, ?, ?, "
        "(SELECT COALESCE(MAX(seq), 0) + 1 FROM booking_transitions "
        "WHERE tenant_id = ? AND booking_id = ?), ?, ?, ?, ?)",
        (
            str(event.meta.event_id),
            event.meta.tenant_id,
            booking_id,
            event.meta.tenant_id,
            booking_id,
            event.event_type,
            None if before is None else before.value,
            after.value,
            iso(event.meta.occurred_at),
        ),
    )


def transitions(tx: Tx, tenant_id: str, booking_id: str) -> list[tuple[str | None, str]]:
    """The booking's history as (from, to) pairs, oldest first."""
    rows = tx.all(
        "SELECT from_status, to_status FROM booking_transitions "
        "WHERE tenant_id = ? AND booking_id = ? ORDER BY seq",
        (tenant_id, booking_id),
    )
    return [(row["from_status"], row["to_status"]) for row in rows]


__all__ = [
    "ALLOWED",
    "BOOKED",
    "MIGRATIONS",
    "Booking",
    "Status",
    "cancel",
    "check_in",
    "check_out",
    "create",
    "get",
    "modify",
    "next_arrival",
    "transitions",
]
