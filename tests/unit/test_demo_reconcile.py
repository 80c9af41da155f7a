"""The demo's books: every produced event lands in exactly one outcome column.

Contract: `producers.demo.reconcile` attributes what the fallback deployment handled or
dead-lettered to the queue the event was produced to (by its type), counts events parked
behind a held key as held, and leaves the difference as `unaccounted`, so a figure the
workers did not report shows up instead of vanishing.
"""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime

from frontdesk.worker import HeldKey
from producers.demo import Key, WorkerCounts, reconcile


def _held(topic: str, tenant: str, parked: int) -> HeldKey:
    return HeldKey(
        group="g", topic=topic, partition=0, key=f"{tenant}/p", tenant=tenant, hold_id="h",
        event_id="e", event_type="GuestCheckedOut", stage="dlq",
        since=datetime(2025, 1, 1, tzinfo=UTC), parked=parked,
    )  # fmt: skip


def test_outcomes_add_up_per_queue_and_tenant() -> None:
    produced: Counter[Key] = Counter(
        {
            ("sync", "acme", "RateChanged"): 10,
            ("automation", "acme", "NotificationRequested"): 4,
            ("operational", "bee", "GuestCheckedOut"): 5,
        }
    )
    counts = WorkerCounts()
    counts.handled[("sync", "acme", "RateChanged")] = 6
    counts.diverted[("sync", "acme", "RateChanged")] = 4
    counts.handled[("fallback", "acme", "RateChanged")] = 3
    counts.dead_lettered[("fallback", "acme", "RateChanged")] = 1
    counts.diverted[("automation", "acme", "NotificationRequested")] = 4
    counts.handled[("fallback", "acme", "NotificationRequested")] = 4
    counts.handled[("operational", "bee", "GuestCheckedOut")] = 2
    counts.dead_lettered[("operational", "bee", "GuestCheckedOut")] = 1
    held = [_held("ns.pms.operational", "bee", 2)]

    books = reconcile(produced, counts, held, "ns")

    sync = books.cells[("sync", "acme")]
    assert (sync.handled, sync.via_fallback, sync.dlq, sync.unaccounted) == (6, 3, 1, 0)
    automation = books.cells[("automation", "acme")]
    assert (automation.handled, automation.via_fallback, automation.unaccounted) == (0, 4, 0)
    operational = books.cells[("operational", "bee")]
    assert (operational.handled, operational.dlq, operational.held) == (2, 1, 2)
    assert operational.unaccounted == 0
    assert books.diverted == books.fallback_done == Counter({"sync": 4, "automation": 4})
    assert {t: o.produced for t, o in books.by_tenant().items()} == {"acme": 14, "bee": 5}


def test_a_missing_figure_shows_as_unaccounted() -> None:
    produced: Counter[Key] = Counter({("automation", "acme", "NotificationRequested"): 5})
    counts = WorkerCounts()
    counts.handled[("automation", "acme", "NotificationRequested")] = 3

    books = reconcile(produced, counts, [], None)

    assert books.by_queue()["automation"].unaccounted == 2
