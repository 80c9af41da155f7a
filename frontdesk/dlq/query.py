"""Which dead letters to look at: the DLQ topics (by queue or by name) and header filters.

Filters read headers (event type, error class, reason) and the record's timestamp; the
tenant filter matches every tenant a record names (its dedicated topic, key, header or
payload: `Tenancy`), so a record planted under another tenant's name is found, and flagged,
whichever of them the operator asks for. Several values of one filter
are alternatives (OR); different filters must all hold (AND); an empty filter matches all.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from frontdesk import naming
from frontdesk.dlq.ids import DeadLetterId
from frontdesk.dlq.model import DeadLetter
from frontdesk.queues import QueueType
from frontdesk.topology import Topology


def dlq_topics(topology: Topology, queues: Iterable[QueueType | str] = ()) -> list[str]:
    """The DLQ topics of ``queues`` (pooled and every dedicated tenant's); all queues if none."""
    chosen = [QueueType(q) for q in queues] or list(QueueType)
    return [naming.dlq_topic(main) for q in chosen for main in topology.main_topics(q)]


@dataclass(frozen=True, slots=True)
class DlqFilter:
    """Header-level filters over dead letters; empty sets mean "any"."""

    tenants: frozenset[str] = frozenset()
    event_types: frozenset[str] = frozenset()
    error_classes: frozenset[str] = frozenset()
    reasons: frozenset[str] = frozenset()
    since: datetime | None = None
    """Inclusive, on the DLQ record's timestamp (when it was dead-lettered)."""
    until: datetime | None = None
    """Exclusive."""
    ids: frozenset[DeadLetterId] = frozenset()
    """Only these dead letters, when given."""

    def __post_init__(self) -> None:
        if self.since and self.until and self.until <= self.since:
            raise ValueError("until must be after since")

    @property
    def empty(self) -> bool:
        """True when the filter selects everything: bulk actions then need an explicit --all."""
        return not (
            self.tenants
            or self.event_types
            or self.error_classes
            or self.reasons
            or self.since
            or self.until
            or self.ids
        )

    def matches(self, dead_letter: DeadLetter) -> bool:
        if self.ids and dead_letter.id not in self.ids:
            return False
        if self.tenants and not self.tenants & dead_letter.tenancy.names:
            return False
        if self.event_types and dead_letter.event_type not in self.event_types:
            return False
        if self.error_classes and not self._class_matches(dead_letter.error_class):
            return False
        if self.reasons and dead_letter.reason not in self.reasons:
            return False
        if self.since and dead_letter.timestamp < self.since:
            return False
        return not (self.until and dead_letter.timestamp >= self.until)

    def _class_matches(self, error_class: str | None) -> bool:
        """``ValueError`` matches ``builtins.ValueError`` too: operators type the short name."""
        if error_class is None:
            return False
        short = error_class.rsplit(".", 1)[-1]
        return error_class in self.error_classes or short in self.error_classes
