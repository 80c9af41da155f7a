"""The DLQ budget: notice when a worker is about to drain its queue into the DLQ.

A bad deploy (a handler that always raises a non-retryable error, a schema the worker
cannot read) would otherwise move every event to the DLQ at full speed, turning a small
incident into a big redrive. The window counts outcomes per second bucket, so memory is
bounded by the window length whatever the rate.
"""

from __future__ import annotations

from collections import deque

from frontdesk.worker.policy import DlqBudget


class DlqWindow:
    """Outcomes in a sliding time window; `tripped` once the budget is exceeded."""

    __slots__ = ("_buckets", "_dlq", "_total", "budget", "trip_reason")

    def __init__(self, budget: DlqBudget) -> None:
        self.budget = budget
        self._buckets: deque[list[int]] = deque()
        """[second, total, dead-lettered], oldest first."""
        self._total = 0
        self._dlq = 0
        self.trip_reason: str | None = None

    @property
    def tripped(self) -> bool:
        return self.trip_reason is not None

    def record(self, dead_lettered: bool, now: float) -> bool:
        """Count one finished event; ``True`` exactly when this outcome trips the budget."""
        second = int(now)
        if self._buckets and self._buckets[-1][0] == second:
            bucket = self._buckets[-1]
        else:
            bucket = [second, 0, 0]
            self._buckets.append(bucket)
        bucket[1] += 1
        self._total += 1
        if dead_lettered:
            bucket[2] += 1
            self._dlq += 1
        self._expire(now)
        if self.tripped or not self.budget.enabled:
            return False
        if self._total >= self.budget.min_events and self._dlq > self.budget.max_share * (
            self._total
        ):
            self.trip_reason = (
                f"{self._dlq} of the last {self._total} events "
                f"({self._dlq / self._total:.0%}) went to the DLQ within "
                f"{self.budget.window:g}s, over the budget of {self.budget.max_share:.0%}"
            )
            return True
        return False

    def _expire(self, now: float) -> None:
        horizon = now - self.budget.window
        while self._buckets and self._buckets[0][0] + 1 <= horizon:
            _, total, dlq = self._buckets.popleft()
            self._total -= total
            self._dlq -= dlq

    def share(self) -> tuple[int, int]:
        """(dead-lettered, total) in the current window."""
        return self._dlq, self._total
