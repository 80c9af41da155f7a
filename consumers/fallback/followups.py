"""Follow-ups: diverted work with no automatic degraded path, kept for a person.

Operational work has no external dependency of its own, but a breaker may still divert it
(a shared database, a lock service). Such an event is recorded once per event id with the
dependency and the reason, decoded enough to be read, until someone resolves it.
"""

from __future__ import annotations

from dataclasses import dataclass

from consumers.common.store import Row, Store, now_iso
from frontdesk.events import Event

MIGRATIONS = (
    """
    CREATE TABLE IF NOT EXISTS follow_ups (
        tenant_id TEXT NOT NULL,
        event_id TEXT NOT NULL,
        property_id TEXT NOT NULL,
        event_type TEXT NOT NULL,
        dependency TEXT,
        reason TEXT NOT NULL,
        payload TEXT NOT NULL,
        created_at TEXT NOT NULL,
        resolved_at TEXT,
        resolved_by TEXT,
        PRIMARY KEY (tenant_id, event_id)
    )
    """,
)


@dataclass(frozen=True, slots=True)
class FollowUp:
    tenant_id: str
    event_id: str
    event_type: str
    dependency: str | None
    reason: str
    payload: str

    @classmethod
    def from_row(cls, row: Row) -> FollowUp:
        return cls(
            row["tenant_id"],
            row["event_id"],
            row["event_type"],
            row["dependency"],
            row["reason"],
            row["payload"],
        )


class FollowUps:
    def __init__(self, store: Store) -> None:
        self.store = store
        store.migrate(MIGRATIONS)

    def record(self, event: Event, *, reason: str, dependency: str | None = None) -> bool:
        """Keep ``event`` for a person; False when it was already recorded."""
        m = event.meta
        with self.store.transaction() as tx:
            return (
                tx.execute(
                    "INSERT INTO follow_ups (tenant_id, event_id, property_id, event_type, "
                    "dependency, reason, payload, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?) "
                    "ON CONFLICT (tenant_id, event_id) DO NOTHING",
                    (
                        m.tenant_id,
                        str(m.event_id),
                        m.property_id,
                        event.event_type,
                        dependency,
                        reason,
                        event.model_dump_json(),
                        now_iso(),
                    ),
                )
                == 1
            )

    def open(self, tenant_id: str) -> list[FollowUp]:
        with self.store.transaction() as tx:
            rows = tx.all(
                "SELECT * FROM follow_ups WHERE tenant_id = ? AND resolved_at IS NULL "
                "ORDER BY created_at, event_id",
                (tenant_id,),
            )
        return [FollowUp.from_row(row) for row in rows]

    def resolve(self, tenant_id: str, event_id: str, by: str) -> bool:
        with self.store.transaction() as tx:
            return (
                tx.execute(
                    "UPDATE follow_ups SET resolved_at = ?, resolved_by = ? "
                    "WHERE tenant_id = ? AND event_id = ? AND resolved_at IS NULL",
                    (now_iso(), by, tenant_id, event_id),
                )
                == 1
            )


__all__ = ["FollowUp", "FollowUps"]
