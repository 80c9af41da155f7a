"""Maintenance tickets: every MaintenanceRequested opens one, keyed by its request id.

Requests are independent and unordered; the first event for a request id opens the ticket
and a repeat (redelivery, or the PMS sending it twice) leaves it as it is. A ticket that
blocks its unit shows up in `blocked_units`, which is what front desk and the sync side
need to stop selling the unit.
"""

from __future__ import annotations

from dataclasses import dataclass

from consumers.common.store import Row, Tx, iso
from frontdesk.events import MaintenanceCategory, MaintenancePriority, MaintenanceRequested

MIGRATIONS = (
    """
    CREATE TABLE IF NOT EXISTS maintenance_tickets (
        tenant_id TEXT NOT NULL,
        request_id TEXT NOT NULL,
        property_id TEXT NOT NULL,
        unit_id TEXT,
        category TEXT NOT NULL,
        priority TEXT NOT NULL,
        description TEXT NOT NULL,
        reported_by TEXT NOT NULL,
        blocks_unit INTEGER NOT NULL,
        status TEXT NOT NULL,
        opened_at TEXT NOT NULL,
        source_event_id TEXT NOT NULL,
        PRIMARY KEY (tenant_id, request_id)
    )
    """,
)

_PRIORITY_ORDER = (
    "CASE priority WHEN 'urgent' THEN 0 WHEN 'high' THEN 1 WHEN 'normal' THEN 2 ELSE 3 END"
)


@dataclass(frozen=True, slots=True)
class Ticket:
    tenant_id: str
    request_id: str
    property_id: str
    unit_id: str | None
    category: MaintenanceCategory
    priority: MaintenancePriority
    blocks_unit: bool
    status: str

    @classmethod
    def from_row(cls, row: Row) -> Ticket:
        return cls(
            tenant_id=row["tenant_id"],
            request_id=row["request_id"],
            property_id=row["property_id"],
            unit_id=row["unit_id"],
            category=MaintenanceCategory(row["category"]),
            priority=MaintenancePriority(row["priority"]),
            blocks_unit=bool(row["blocks_unit"]),
            status=row["status"],
        )


def open_ticket(tx: Tx, event: MaintenanceRequested) -> None:
    meta = event.meta
    tx.execute(
        """
        INSERT INTO maintenance_tickets (tenant_id, request_id, property_id, unit_id, category,
            priority, description, reported_by, blocks_unit, status, opened_at, source_event_id)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 'open', ?, ?)
        ON CONFLICT (tenant_id, request_id) DO NOTHING
        """,
        (
            meta.tenant_id,
            event.request_id,
            meta.property_id,
            event.unit_id,
            event.category.value,
            event.priority.value,
            event.description,
            event.reported_by,
            int(event.blocks_unit),
            iso(meta.occurred_at),
            str(meta.event_id),
        ),
    )


def open_tickets(tx: Tx, tenant_id: str, property_id: str) -> list[Ticket]:
    """The property's open tickets, most urgent first."""
    rows = tx.all(
        "SELECT * FROM maintenance_tickets WHERE tenant_id = ? AND property_id = ? "
        f"AND status = 'open' ORDER BY {_PRIORITY_ORDER}, opened_at, request_id",
        (tenant_id, property_id),
    )
    return [Ticket.from_row(row) for row in rows]


def blocked_units(tx: Tx, tenant_id: str, property_id: str) -> set[str]:
    """Units an open ticket says cannot be sold."""
    rows = tx.all(
        "SELECT DISTINCT unit_id FROM maintenance_tickets WHERE tenant_id = ? "
        "AND property_id = ? AND status = 'open' AND blocks_unit = 1 AND unit_id IS NOT NULL",
        (tenant_id, property_id),
    )
    return {row["unit_id"] for row in rows}


__all__ = ["MIGRATIONS", "Ticket", "blocked_units", "open_ticket", "open_tickets"]
