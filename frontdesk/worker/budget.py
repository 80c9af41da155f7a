"""The DLQ budget: notice when a worker is about to drain a tenant's events into the DLQ.

A bad deploy (a handler that always raises a non-retryable error, a schema the worker
cannot read) or one tenant's bad data would otherwise move every event to the DLQ at full
speed, turning a small incident into a big redrive. The budget is kept per tenant
(`TenantBudgets`): only the tenant over budget is halted. The window counts outcomes per
second bucket, so memory is bounded by the window length whatever the rate.
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
        self.expire(now)
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

    def expire(self, now: float) -> None:
        horizon = now - self.budget.window
        while self._buckets and self._buckets[0][0] + 1 <= horizon:
            _, total, dlq = self._buckets.popleft()
            self._total -= total
            self._dlq -= dlq

    def share(self) -> tuple[int, int]:
        """(dead-lettered, total) in the current window."""
        return self._dlq, self._total


class TenantBudgets:
    """The DLQ budget kept per tenant: the tenant whose events drain into the DLQ is halted,
    the others keep flowing (one tenant's bad data must not stop a shared queue).

    Windows of tenants without recent outcomes are dropped, so memory is bounded by the
    tenants active within one window, whatever tenant ids a pooled topic carries.
    """

    __slots__ = ("_swept", "_windows", "budget", "halted")

    def __init__(self, budget: DlqBudget) -> None:
        self.budget = budget
        self._windows: dict[str, DlqWindow] = {}
        self._swept = 0.0
        self.halted: dict[str, str] = {}
        """Halted tenant -> why."""

    def record(self, tenant: str, dead_lettered: bool, now: float) -> str | None:
        """Count one finished event of ``tenant``; the reason when it halts the tenant."""
        if tenant in self.halted:
            return None
        window = self._windows.get(tenant)
        if window is None:
            window = self._windows[tenant] = DlqWindow(self.budget)
        tripped = window.record(dead_lettered, now)
        self._sweep(now)
        if not tripped:
            return None
        reason = f"tenant {tenant}: {window.trip_reason}"
        self.halted[tenant] = reason
        del self._windows[tenant]
        return reason

    def resume(self, tenant: str | None = None) -> list[str]:
        """Lift the halt of ``tenant`` (every halted tenant if ``None``); who resumed."""
        tenants = list(self.halted) if tenant is None else [tenant] if tenant in self.halted else []
        for name in tenants:
            del self.halted[name]
        return tenants

    def _sweep(self, now: float) -> None:
        if now - self._swept < 1.0:
            return
        self._swept = now
        for tenant, window in list(self._windows.items()):
            window.expire(now)
            if window.share()[1] == 0:
                del self._windows[tenant]
