"""The housekeeping schedule: a cleaning task for every check-out, closed by its completion.

A check-out schedules a checkout clean of the released unit for the same day, due when
the unit's next booked guest may arrive (``CHECK_IN_TIME`` UTC on the arrival day), so
housekeepers see which rooms are urgent. The task id is derived from the booking and unit,
so a redelivered check-out finds the same task instead of a second one. Tasks scheduled
elsewhere (the PMS, a person) arrive as CleaningTaskScheduled and join the same table;
ours come back that way too when emission is on, and are recognised by their id.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, date, datetime, time

from consumers.common.errors import TransitionError, UnknownEntityError
from consumers.common.run import derived_event_id
from consumers.common.store import Row, Tx, iso
from consumers.operational import bookings
from frontdesk.events import (
    CleaningTaskCompleted,
    CleaningTaskScheduled,
    CleaningType,
    GuestCheckedOut,
)

CHECK_IN_TIME = time(14, 0)
"""When a unit must be ready on an arrival day (UTC; the events carry no property zone)."""

MIGRATIONS = (
    """
    CREATE TABLE IF NOT EXISTS cleaning_tasks (
        tenant_id TEXT NOT NULL,
        task_id TEXT NOT NULL,
        property_id TEXT NOT NULL,
        unit_id TEXT NOT NULL,
        task_type TEXT NOT NULL,
        scheduled_for TEXT NOT NULL,
        due_by TEXT,
        booking_id TEXT,
        notes TEXT,
        status TEXT NOT NULL,
        completed_by TEXT,
        completed_at TEXT,
        issues TEXT,
        source_event_id TEXT NOT NULL,
        PRIMARY KEY (tenant_id, task_id)
    )
    """,
)


@dataclass(frozen=True, slots=True)
class CleaningTask:
    """A housekeeping task as scheduled (and possibly completed)."""

    tenant_id: str
    task_id: str
    property_id: str
    unit_id: str
    task_type: CleaningType
    scheduled_for: date
    due_by: datetime | None
    booking_id: str | None
    status: str
    issues: tuple[str, ...]

    @classmethod
    def from_row(cls, row: Row) -> CleaningTask:
        return cls(
            tenant_id=row["tenant_id"],
            task_id=row["task_id"],
            property_id=row["property_id"],
            unit_id=row["unit_id"],
            task_type=CleaningType(row["task_type"]),
            scheduled_for=date.fromisoformat(row["scheduled_for"]),
            due_by=None if row["due_by"] is None else datetime.fromisoformat(row["due_by"]),
            booking_id=row["booking_id"],
            status=row["status"],
            issues=tuple(json.loads(row["issues"] or "[]")),
        )


def checkout_task_id(booking_id: str, unit_id: str) -> str:
    return f"checkout-{booking_id}-{unit_id}"


def schedule_checkout_clean(tx: Tx, event: GuestCheckedOut) -> CleaningTask:
    """Schedule (once) the clean a check-out needs; the task, new or already there."""
    meta = event.meta
    day = event.checked_out_at.astimezone(UTC).date()
    arrival = bookings.next_arrival(tx, meta.tenant_id, meta.property_id, event.unit_id, day)
    due_by = None if arrival is None else datetime.combine(arrival, CHECK_IN_TIME, UTC)
    task_id = checkout_task_id(event.booking_id, event.unit_id)
    _insert(
        tx,
        tenant_id=meta.tenant_id,
        task_id=task_id,
        property_id=meta.property_id,
        unit_id=event.unit_id,
        task_type=CleaningType.CHECKOUT_CLEAN,
        scheduled_for=day,
        due_by=due_by,
        booking_id=event.booking_id,
        notes=None,
        source_event_id=str(meta.event_id),
    )
    task = get(tx, meta.tenant_id, task_id)
    assert task is not None  # just inserted, or there before
    return task


def record_scheduled(tx: Tx, event: CleaningTaskScheduled) -> None:
    """Add a task scheduled elsewhere; one we scheduled ourselves is already there."""
    meta = event.meta
    _insert(
        tx,
        tenant_id=meta.tenant_id,
        task_id=event.task_id,
        property_id=meta.property_id,
        unit_id=event.unit_id,
        task_type=event.task_type,
        scheduled_for=event.scheduled_for,
        due_by=event.due_by,
        booking_id=event.booking_id,
        notes=event.notes,
        source_event_id=str(meta.event_id),
    )


def complete(tx: Tx, event: CleaningTaskCompleted) -> None:
    meta = event.meta
    task = get(tx, meta.tenant_id, event.task_id)
    if task is None:
        raise UnknownEntityError(f"cleaning task {event.task_id} was never scheduled")
    if task.status != "scheduled":
        raise TransitionError(f"cleaning task {event.task_id} is already {task.status}")
    if task.unit_id != event.unit_id:
        raise TransitionError(
            f"cleaning task {event.task_id} is for unit {task.unit_id}, not {event.unit_id}"
        )
    tx.execute(
        "UPDATE cleaning_tasks SET status = 'completed', completed_by = ?, completed_at = ?, "
        "issues = ? WHERE tenant_id = ? AND task_id = ?",
        (
            event.completed_by,
            iso(event.completed_at),
            json.dumps(list(event.issues)),
            meta.tenant_id,
            event.task_id,
        ),
    )


def get(tx: Tx, tenant_id: str, task_id: str) -> CleaningTask | None:
    row = tx.one(
        "SELECT * FROM cleaning_tasks WHERE tenant_id = ? AND task_id = ?", (tenant_id, task_id)
    )
    return None if row is None else CleaningTask.from_row(row)


def open_tasks(tx: Tx, tenant_id: str, property_id: str) -> list[CleaningTask]:
    """The property's tasks still to do, most urgent first (no deadline last)."""
    rows = tx.all(
        "SELECT * FROM cleaning_tasks WHERE tenant_id = ? AND property_id = ? "
        "AND status = 'scheduled' "
        "ORDER BY scheduled_for, CASE WHEN due_by IS NULL THEN 1 ELSE 0 END, due_by, task_id",
        (tenant_id, property_id),
    )
    return [CleaningTask.from_row(row) for row in rows]


def scheduled_event(task: CleaningTask, cause: GuestCheckedOut) -> CleaningTaskScheduled:
    """The CleaningTaskScheduled announcing ``task``, with an id stable across redeliveries."""
    return CleaningTaskScheduled.new(
        cause=cause,
        event_id=derived_event_id(cause, "CleaningTaskScheduled"),
        occurred_at=cause.meta.occurred_at,  # scheduled by the check-out: same instant
        source="consumers.operational",
        task_id=task.task_id,
        unit_id=task.unit_id,
        task_type=task.task_type,
        scheduled_for=task.scheduled_for,
        due_by=task.due_by,
        booking_id=task.booking_id,
    )


def _insert(
    tx: Tx,
    *,
    tenant_id: str,
    task_id: str,
    property_id: str,
    unit_id: str,
    task_type: CleaningType,
    scheduled_for: date,
    due_by: datetime | None,
    booking_id: str | None,
    notes: str | None,
    source_event_id: str,
) -> None:
    tx.execute(
        """
        INSERT INTO cleaning_tasks (tenant_id, task_id, property_id, unit_id, task_type,
            scheduled_for, due_by, booking_id, notes, status, source_event_id)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 'scheduled', ?)
        ON CONFLICT (tenant_id, task_id) DO NOTHING
        """,
        (
            tenant_id,
            task_id,
            property_id,
            unit_id,
            task_type.value,
            scheduled_for.isoformat(),
            None if due_by is None else iso(due_by),
            booking_id,
            notes,
            source_event_id,
        ),
    )


__all__ = [
    "CHECK_IN_TIME",
    "MIGRATIONS",
    "CleaningTask",
    "checkout_task_id",
    "complete",
    "get",
    "open_tasks",
    "record_scheduled",
    "schedule_checkout_clean",
    "scheduled_event",
]
