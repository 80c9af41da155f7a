"""Tier gates release records only once due, in order; lateness percentiles; DLQ budget."""

from __future__ import annotations

from frontdesk import headers
from frontdesk.worker.budget import DlqWindow
from frontdesk.worker.policy import DlqBudget
from frontdesk.worker.tiers import LatenessStats, TierGate, due_at_ms


def test_gate_holds_until_due_and_keeps_order() -> None:
    gate: TierGate[str] = TierGate()
    assert gate.offer(None, "no-header", now=100)
    assert gate.offer(90, "already-due", now=100)
    assert not gate.offer(200, "a", now=100)
    assert not gate.offer(150, "b-due-earlier", now=100), "waits behind the head"
    assert gate.next_due() == 200
    assert gate.release(199) == []
    assert gate.release(200) == ["a", "b-due-earlier"]
    assert gate.next_due() is None


def test_gate_releases_only_the_due_prefix() -> None:
    gate: TierGate[int] = TierGate()
    for i, due in enumerate((10, 20, 30)):
        gate.offer(due, i, now=0)
    assert gate.release(25) == [0, 1]
    assert len(gate) == 1
    assert gate.clear() == [2]


def test_due_header_parsing() -> None:
    assert due_at_ms([(headers.DUE_AT, b"123")]) == 123
    assert due_at_ms([(headers.DUE_AT, b"soon")]) is None
    assert due_at_ms(None) is None


def test_lateness_percentiles_over_a_bounded_sample() -> None:
    stats = LatenessStats(capacity=100)
    for v in range(1000):
        stats.add(float(v))
    assert len(stats) == 100
    assert stats.percentile(50) in (949.0, 950.0)
    assert stats.percentile(99) == 998.0
    assert stats.summary()["min_ms"] == 900.0


def test_budget_trips_only_past_the_share_with_enough_events() -> None:
    window = DlqWindow(DlqBudget(max_share=0.5, min_events=10, window=60))
    for i in range(9):
        assert not window.record(True, now=1000 + i * 0.1)
    assert window.record(True, now=1001), "10 of 10: over 50%"
    assert window.tripped
    assert "10 of the last 10" in (window.trip_reason or "")
    assert not window.record(True, now=1002), "trips once"


def test_budget_window_forgets_old_outcomes() -> None:
    window = DlqWindow(DlqBudget(max_share=0.5, min_events=4, window=10))
    for _ in range(3):
        window.record(True, now=100)
    for i in range(4):
        window.record(False, now=200 + i)
    assert window.share() == (0, 4)
    assert not window.record(True, now=204)
    assert not window.tripped, "1 of 5 is under the budget"
