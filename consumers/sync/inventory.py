"""What a channel should show, night by night, and which nights it may not show yet.

Availability and rate events cover date ranges; the mirror stores their values per night
(per channel, room type, and for rates per rate plan and occupancy), keeping the latest by
``occurred_at``, and flags each night ``pending`` until a push that carried it succeeded.
Reading the mirror back `coalesce`s consecutive nights with equal values into ranges, so:

- the sync deployment pushes the *current* state of an event's range (a replayed old event
  cannot roll the channel back);
- the fallback deployment, while the OTA is down, only records; when it recovers, many
  overlapping changes go out as the few ranges that describe the latest state;
- a ChannelSyncRequested re-pushes any slice of the mirror.

Capacity (RoomTypeCapacityChanged) caps what is sellable: a channel is never shown more
units of a room type on a night than the room type has on that night, whatever the
availability says (a lower capacity would otherwise be overbooked). The capacity of a
night is the ``total_units`` of the latest (by ``occurred_at``) change whose
``effective_from`` is on or before it; it is applied when the mirror is read, and a change
that alters what a night shows flags that night pending again.

A push marks a night done only if its value is still the one pushed (same event id: the
availability change that set it, or the capacity change that last altered what it shows),
so a change recorded during the push stays pending.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any, Generic, TypeVar

from consumers.common.store import Row, Tx, iso
from consumers.sync.ota import AvailabilityRange, RateRange
from frontdesk.events import AvailabilityChanged, Channel, RateChanged, RoomTypeCapacityChanged

MIGRATIONS = (
    """
    CREATE TABLE IF NOT EXISTS ota_availability (
        tenant_id TEXT NOT NULL,
        property_id TEXT NOT NULL,
        channel TEXT NOT NULL,
        room_type_id TEXT NOT NULL,
        night TEXT NOT NULL,
        units_available INTEGER NOT NULL,
        min_stay INTEGER,
        closed_to_arrival INTEGER NOT NULL,
        closed_to_departure INTEGER NOT NULL,
        occurred_at TEXT NOT NULL,
        event_id TEXT NOT NULL,
        pending INTEGER NOT NULL,
        PRIMARY KEY (tenant_id, property_id, channel, room_type_id, night)
    )
    """,
    """
    CREATE TABLE IF NOT EXISTS ota_rates (
        tenant_id TEXT NOT NULL,
        property_id TEXT NOT NULL,
        channel TEXT NOT NULL,
        room_type_id TEXT NOT NULL,
        rate_plan_id TEXT NOT NULL,
        occupancy INTEGER NOT NULL,
        night TEXT NOT NULL,
        amount TEXT NOT NULL,
        currency TEXT NOT NULL,
        occurred_at TEXT NOT NULL,
        event_id TEXT NOT NULL,
        pending INTEGER NOT NULL,
        PRIMARY KEY (tenant_id, property_id, channel, room_type_id, rate_plan_id, occupancy, night)
    )
    """,
    """
    CREATE TABLE IF NOT EXISTS ota_capacity (
        tenant_id TEXT NOT NULL,
        property_id TEXT NOT NULL,
        room_type_id TEXT NOT NULL,
        effective_from TEXT NOT NULL,
        total_units INTEGER NOT NULL,
        max_occupancy INTEGER,
        occurred_at TEXT NOT NULL,
        event_id TEXT NOT NULL,
        PRIMARY KEY (tenant_id, property_id, room_type_id, event_id)
    )
    """,
)

Night = tuple[date, str]
"""(night, event id of the value stored for it)."""

R = TypeVar("R")


@dataclass(frozen=True, slots=True)
class Run(Generic[R]):
    """A coalesced range ready to push, with the nights (and their versions) it covers."""

    update: R
    nights: tuple[Night, ...]


def nights(start: date, end: date) -> list[date]:
    """Every night from ``start`` to ``end`` inclusive."""
    return [start + timedelta(days=i) for i in range((end - start).days + 1)]


def coalesce(
    rows: Iterable[Row],
    group: Callable[[Row], Hashable],
    values: Callable[[Row], Hashable],
    build: Callable[[Row, date, date], R],
) -> list[Run[R]]:
    """Merge rows (ordered by group, then night) into maximal runs of consecutive nights
    with equal values. ``build(first_row, start, end)`` makes each run's update."""
    runs: list[Run[R]] = []
    first: Row | None = None
    members: list[Night] = []
    last: date | None = None

    def close() -> None:
        if first is not None and last is not None:
            runs.append(Run(build(first, members[0][0], last), tuple(members)))

    for row in rows:
        night = date.fromisoformat(row["night"])
        extends = (
            first is not None
            and last is not None
            and group(row) == group(first)
            and values(row) == values(first)
            and night == last + timedelta(days=1)
        )
        if not extends:
            close()
            first, members = row, []
        members.append((night, row["event_id"]))
        last = night
    close()
    return runs


# -- availability --------------------------------------------------------------------------


def record_availability(tx: Tx, channel: Channel, event: AvailabilityChanged) -> None:
    """Store the event's values on each night of its range, unless a later change is there."""
    meta = event.meta
    tx.execute_many(
        """
        INSERT INTO ota_availability (tenant_id, property_id, channel, room_type_id, night,
            units_available, min_stay, closed_to_arrival, closed_to_departure, occurred_at,
            event_id, pending)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1)
        ON CONFLICT (tenant_id, property_id, channel, room_type_id, night) DO UPDATE SET
            units_available = excluded.units_available,
            min_stay = excluded.min_stay,
            closed_to_arrival = excluded.closed_to_arrival,
            closed_to_departure = excluded.closed_to_departure,
            occurred_at = excluded.occurred_at,
            event_id = excluded.event_id,
            pending = 1
        WHERE excluded.occurred_at >= ota_availability.occurred_at
        """,
        [
            (
                meta.tenant_id,
                meta.property_id,
                channel.value,
                event.room_type_id,
                night.isoformat(),
                event.units_available,
                event.min_stay,
                int(event.closed_to_arrival),
                int(event.closed_to_departure),
                iso(meta.occurred_at),
                str(meta.event_id),
            )
            for night in nights(event.start_date, event.end_date)
        ],
    )


def availability_runs(tx: Tx, channel: Channel, where: Slice) -> list[Run[AvailabilityRange]]:
    clauses, params = where.sql(channel)
    rows = tx.all(
        f"SELECT * FROM ota_availability WHERE {clauses} ORDER BY room_type_id, night",
        params,
    )
    rows = _capped(tx, where.tenant_id, where.property_id, rows)
    return coalesce(
        rows,
        group=lambda r: r["room_type_id"],
        values=lambda r: (
            r["units_available"],
            r["min_stay"],
            bool(r["closed_to_arrival"]),
            bool(r["closed_to_departure"]),
        ),
        build=lambda r, s, e: AvailabilityRange(
            room_type_id=r["room_type_id"],
            start_date=s,
            end_date=e,
            units_available=r["units_available"],
            min_stay=r["min_stay"],
            closed_to_arrival=bool(r["closed_to_arrival"]),
            closed_to_departure=bool(r["closed_to_departure"]),
        ),
    )


def mark_availability_pushed(
    tx: Tx, channel: Channel, tenant_id: str, property_id: str, run: Run[AvailabilityRange]
) -> None:
    tx.execute_many(
        "UPDATE ota_availability SET pending = 0 WHERE tenant_id = ? AND property_id = ? "
        "AND channel = ? AND room_type_id = ? AND night = ? AND event_id = ?",
        [
            (tenant_id, property_id, channel.value, run.update.room_type_id, n.isoformat(), e)
            for n, e in run.nights
        ],
    )


# -- rates ---------------------------------------------------------------------------------


def record_rate(tx: Tx, channel: Channel, event: RateChanged) -> None:
    meta = event.meta
    tx.execute_many(
        """
        INSERT INTO ota_rates (tenant_id, property_id, channel, room_type_id, rate_plan_id,
            occupancy, night, amount, currency, occurred_at, event_id, pending)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1)
        ON CONFLICT (tenant_id, property_id, channel, room_type_id, rate_plan_id, occupancy,
            night) DO UPDATE SET
            amount = excluded.amount,
            currency = excluded.currency,
            occurred_at = excluded.occurred_at,
            event_id = excluded.event_id,
            pending = 1
        WHERE excluded.occurred_at >= ota_rates.occurred_at
        """,
        [
            (
                meta.tenant_id,
                meta.property_id,
                channel.value,
                event.room_type_id,
                event.rate_plan_id,
                event.occupancy,
                night.isoformat(),
                str(event.amount),
                event.currency,
                iso(meta.occurred_at),
                str(meta.event_id),
            )
            for night in nights(event.start_date, event.end_date)
        ],
    )


def rate_runs(tx: Tx, channel: Channel, where: Slice) -> list[Run[RateRange]]:
    clauses, params = where.sql(channel)
    rows = tx.all(
        f"SELECT * FROM ota_rates WHERE {clauses} "
        "ORDER BY room_type_id, rate_plan_id, occupancy, night",
        params,
    )
    return coalesce(
        rows,
        group=lambda r: (r["room_type_id"], r["rate_plan_id"], r["occupancy"]),
        values=lambda r: (Decimal(r["amount"]), r["currency"]),
        build=lambda r, s, e: RateRange(
            room_type_id=r["room_type_id"],
            rate_plan_id=r["rate_plan_id"],
            occupancy=r["occupancy"],
            start_date=s,
            end_date=e,
            amount=Decimal(r["amount"]),
            currency=r["currency"],
        ),
    )


def mark_rates_pushed(
    tx: Tx, channel: Channel, tenant_id: str, property_id: str, run: Run[RateRange]
) -> None:
    u = run.update
    tx.execute_many(
        "UPDATE ota_rates SET pending = 0 WHERE tenant_id = ? AND property_id = ? "
        "AND channel = ? AND room_type_id = ? AND rate_plan_id = ? AND occupancy = ? "
        "AND night = ? AND event_id = ?",
        [
            (
                tenant_id,
                property_id,
                channel.value,
                u.room_type_id,
                u.rate_plan_id,
                u.occupancy,
                n.isoformat(),
                e,
            )
            for n, e in run.nights
        ],
    )


# -- capacity ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CapacityStep:
    """One capacity change: ``total_units`` from ``effective_from`` on, as of ``occurred_at``."""

    effective_from: date
    total_units: int
    max_occupancy: int | None
    occurred_at: str
    event_id: str

    @classmethod
    def from_row(cls, row: Row) -> CapacityStep:
        return cls(
            effective_from=date.fromisoformat(row["effective_from"]),
            total_units=row["total_units"],
            max_occupancy=row["max_occupancy"],
            occurred_at=row["occurred_at"],
            event_id=row["event_id"],
        )


def capacity_on(steps: Iterable[CapacityStep], night: date) -> CapacityStep | None:
    """The change that decides a night's capacity: the latest one already in effect."""
    return max(
        (s for s in steps if s.effective_from <= night),
        key=lambda s: (s.occurred_at, s.event_id),
        default=None,
    )


def capacity_steps(
    tx: Tx, tenant_id: str, property_id: str, room_types: Sequence[str] = ()
) -> dict[str, list[CapacityStep]]:
    """Every recorded capacity change of the property, per room type."""
    sql = "SELECT * FROM ota_capacity WHERE tenant_id = ? AND property_id = ?"
    params: list[Any] = [tenant_id, property_id]
    if room_types:
        sql += f" AND room_type_id IN ({', '.join('?' for _ in room_types)})"
        params.extend(room_types)
    steps: dict[str, list[CapacityStep]] = {}
    for row in tx.all(sql + " ORDER BY room_type_id, effective_from, occurred_at", params):
        steps.setdefault(row["room_type_id"], []).append(CapacityStep.from_row(row))
    return steps


def record_capacity(tx: Tx, channel: Channel, event: RoomTypeCapacityChanged) -> int:
    """Store the capacity change and flag pending the channel's nights whose shown units it
    alters; how many nights that is. Recording the same change twice changes nothing."""
    meta = event.meta
    step = CapacityStep(
        effective_from=event.effective_from,
        total_units=event.total_units,
        max_occupancy=event.max_occupancy,
        occurred_at=iso(meta.occurred_at),
        event_id=str(meta.event_id),
    )
    before = capacity_steps(tx, meta.tenant_id, meta.property_id, (event.room_type_id,))
    earlier = [s for s in before.get(event.room_type_id, []) if s.event_id != step.event_id]
    tx.execute(
        """
        INSERT INTO ota_capacity (tenant_id, property_id, room_type_id, effective_from,
            total_units, max_occupancy, occurred_at, event_id)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?)
        ON CONFLICT (tenant_id, property_id, room_type_id, event_id) DO NOTHING
        """,
        (
            meta.tenant_id,
            meta.property_id,
            event.room_type_id,
            step.effective_from.isoformat(),
            step.total_units,
            step.max_occupancy,
            step.occurred_at,
            step.event_id,
        ),
    )
    rows = tx.all(
        "SELECT night, units_available FROM ota_availability WHERE tenant_id = ? "
        "AND property_id = ? AND channel = ? AND room_type_id = ? AND night >= ? ORDER BY night",
        (
            meta.tenant_id,
            meta.property_id,
            channel.value,
            event.room_type_id,
            step.effective_from.isoformat(),
        ),
    )
    altered: list[str] = []
    for row in rows:
        night = date.fromisoformat(row["night"])
        if capacity_on([*earlier, step], night) is not step:
            continue  # a later change decides this night
        old = capacity_on(earlier, night)
        units = row["units_available"]
        was = units if old is None else min(units, old.total_units)
        if min(units, step.total_units) != was:
            altered.append(row["night"])
    tx.execute_many(
        "UPDATE ota_availability SET pending = 1, event_id = ? WHERE tenant_id = ? "
        "AND property_id = ? AND channel = ? AND room_type_id = ? AND night = ?",
        [
            (step.event_id, meta.tenant_id, meta.property_id, channel.value, event.room_type_id, n)
            for n in altered
        ],
    )
    return len(altered)


def _capped(tx: Tx, tenant_id: str, property_id: str, rows: list[Row]) -> list[Row]:
    """The availability rows with each night's units capped at that night's capacity."""
    room_types = sorted({row["room_type_id"] for row in rows})
    steps = capacity_steps(tx, tenant_id, property_id, room_types) if room_types else {}
    if not steps:
        return rows
    capped: list[Row] = []
    for row in rows:
        cap = capacity_on(steps.get(row["room_type_id"], ()), date.fromisoformat(row["night"]))
        if cap is not None and row["units_available"] > cap.total_units:
            capped.append({**row, "units_available": cap.total_units})
        else:
            capped.append(row)
    return capped


# -- shared --------------------------------------------------------------------------------


def pending_properties(tx: Tx, channel: Channel) -> list[tuple[str, str]]:
    """(tenant, property) pairs with anything the channel has not been shown yet."""
    rows = tx.all(
        "SELECT tenant_id, property_id FROM ota_availability WHERE channel = ? AND pending = 1 "
        "UNION SELECT tenant_id, property_id FROM ota_rates WHERE channel = ? AND pending = 1 "
        "ORDER BY tenant_id, property_id",
        (channel.value, channel.value),
    )
    return [(row["tenant_id"], row["property_id"]) for row in rows]


@dataclass(frozen=True, slots=True)
class Slice:
    """Which nights of the mirror to read: one property's, optionally only some room types,
    a date window, and only what is still pending."""

    tenant_id: str
    property_id: str
    room_types: tuple[str, ...] = ()
    start: date | None = None
    end: date | None = None
    pending_only: bool = False

    def sql(self, channel: Channel) -> tuple[str, list[Any]]:
        """The WHERE clauses of this slice for ``channel``, and their parameters."""
        clauses = ["tenant_id = ?", "property_id = ?", "channel = ?"]
        params: list[Any] = [self.tenant_id, self.property_id, channel.value]
        if self.room_types:
            clauses.append(f"room_type_id IN ({', '.join('?' for _ in self.room_types)})")
            params.extend(self.room_types)
        if self.start is not None:
            clauses.append("night >= ?")
            params.append(self.start.isoformat())
        if self.end is not None:
            clauses.append("night <= ?")
            params.append(self.end.isoformat())
        if self.pending_only:
            clauses.append("pending = 1")
        return " AND ".join(clauses), params


__all__ = [
    "MIGRATIONS",
    "CapacityStep",
    "Run",
    "Slice",
    "availability_runs",
    "capacity_on",
    "capacity_steps",
    "coalesce",
    "mark_availability_pushed",
    "mark_rates_pushed",
    "nights",
    "pending_properties",
    "rate_runs",
    "record_availability",
    "record_capacity",
    "record_rate",
]
