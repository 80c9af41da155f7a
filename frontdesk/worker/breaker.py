"""Circuit breakers per external dependency: stop burning retries on a system that is down.

A handler declares what it needs (``@app.handler(..., dependency="ota:booking_com")``), or
raises an error that says so (any exception with a ``dependency`` attribute, such as the
consumers' ``DependencyError``). Each dependency has one `CircuitBreaker`:

* **closed**: calls go through; outcomes are counted in a sliding time window. When at
  least ``min_calls`` outcomes in the window failed at a rate of ``failure_rate`` or more,
  the breaker **opens**.
* **open**: no calls for ``open_for`` seconds. The runtime diverts the events that need
  the dependency to the fallback queue instead of trying them (and burning a retry attempt
  on a call that would fail anyway).
* **half-open**: after ``open_for``, up to ``probes`` calls go through as probes. A probe
  that succeeds closes the breaker (the window starts empty); one that fails opens it again
  for another ``open_for``. While the probes run, other events are still diverted.

Pure and clock-free (every method takes ``now`` in seconds), so it is unit-tested alone.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass
from enum import StrEnum

from frontdesk.worker.errors import PolicyError


class BreakerState(StrEnum):
    CLOSED = "closed"
    OPEN = "open"
    HALF_OPEN = "half_open"


@dataclass(frozen=True, slots=True)
class BreakerPolicy:
    """When a dependency's breaker opens and how it comes back."""

    failure_rate: float = 0.5
    """Share of failed calls in the window that opens the breaker, in (0, 1]."""
    window: float = 30.0
    """Seconds of outcomes considered."""
    min_calls: int = 5
    """Outcomes needed in the window before the rate means anything."""
    open_for: float = 30.0
    """Seconds the breaker stays open before a probe is let through."""
    probes: int = 1
    """Calls let through at once while half-open."""

    def __post_init__(self) -> None:
        if not 0.0 < self.failure_rate <= 1.0:
            raise PolicyError(f"breaker failure_rate must be in (0, 1], got {self.failure_rate}")
        if self.window <= 0 or self.open_for <= 0:
            raise PolicyError("breaker window and open_for must be positive")
        if self.min_calls < 1 or self.probes < 1:
            raise PolicyError("breaker min_calls and probes must be at least 1")


class CircuitBreaker:
    """One dependency's breaker. ``allow`` before a call, ``record`` after it."""

    __slots__ = ("_failures", "_outcomes", "_probing", "name", "opened_at", "policy", "state")

    def __init__(self, name: str, policy: BreakerPolicy | None = None) -> None:
        self.name = name
        self.policy = policy or BreakerPolicy()
        self.state = BreakerState.CLOSED
        self.opened_at: float | None = None
        self._outcomes: deque[tuple[float, bool]] = deque()
        """(time, failed) of recent calls while closed, oldest first."""
        self._failures = 0
        self._probing = 0

    def allow(self, now: float) -> bool:
        """Whether a call may go through now. In half-open, ``True`` claims a probe slot,
        which the matching `record` (or `cancel`) gives back."""
        if self.state is BreakerState.OPEN:
            assert self.opened_at is not None
            if now < self.opened_at + self.policy.open_for:
                return False
            self.state = BreakerState.HALF_OPEN
            self._probing = 0
        if self.state is BreakerState.HALF_OPEN:
            if self._probing >= self.policy.probes:
                return False
            self._probing += 1
            return True
        return True

    def is_open(self, now: float) -> bool:
        """Whether calls are being refused now (open, or half-open with every probe out),
        without claiming a probe."""
        if self.state is BreakerState.OPEN:
            assert self.opened_at is not None
            return now < self.opened_at + self.policy.open_for
        if self.state is BreakerState.HALF_OPEN:
            return self._probing >= self.policy.probes
        return False

    def record(self, failed: bool, now: float) -> bool:
        """Count one call's outcome; ``True`` exactly when this outcome opened the breaker."""
        if self.state is BreakerState.HALF_OPEN:
            self._probing = max(0, self._probing - 1)
            if failed:
                self._open(now)
                return True
            self._close()
            return False
        if self.state is BreakerState.OPEN:
            return False  # a call that started before the breaker opened
        self._outcomes.append((now, failed))
        self._failures += failed
        self._expire(now)
        total = len(self._outcomes)
        if total >= self.policy.min_calls and self._failures >= self.policy.failure_rate * total:
            self._open(now)
            return True
        return False

    def cancel(self) -> None:
        """A call allowed as a probe did not happen (or proved nothing): free its slot."""
        if self.state is BreakerState.HALF_OPEN:
            self._probing = max(0, self._probing - 1)

    def failure_rate(self, now: float) -> tuple[int, int]:
        """(failed, total) calls in the window."""
        self._expire(now)
        return self._failures, len(self._outcomes)

    def describe(self, now: float) -> str:
        failed, total = self.failure_rate(now)
        if self.state is BreakerState.CLOSED:
            return f"{self.name} closed ({failed}/{total} failed in {self.policy.window:g}s)"
        return f"{self.name} {self.state.value} since {self.opened_at:.3f}"

    def _open(self, now: float) -> None:
        self.state = BreakerState.OPEN
        self.opened_at = now
        self._outcomes.clear()
        self._failures = 0
        self._probing = 0

    def _close(self) -> None:
        self.state = BreakerState.CLOSED
        self.opened_at = None
        self._outcomes.clear()
        self._failures = 0

    def _expire(self, now: float) -> None:
        horizon = now - self.policy.window
        while self._outcomes and self._outcomes[0][0] < horizon:
            _, failed = self._outcomes.popleft()
            self._failures -= failed


class Breakers:
    """The breakers of one worker process, created on first mention of a dependency."""

    __slots__ = ("_by_name", "policy")

    def __init__(self, policy: BreakerPolicy | None = None) -> None:
        self.policy = policy or BreakerPolicy()
        self._by_name: dict[str, CircuitBreaker] = {}

    def get(self, name: str) -> CircuitBreaker:
        breaker = self._by_name.get(name)
        if breaker is None:
            breaker = self._by_name[name] = CircuitBreaker(name, self.policy)
        return breaker

    def states(self) -> dict[str, str]:
        return {name: b.state.value for name, b in sorted(self._by_name.items())}

    def __iter__(self) -> Iterator[CircuitBreaker]:
        return iter(list(self._by_name.values()))


def dependency_of(error: BaseException) -> str | None:
    """The dependency an error names (``error.dependency``, a non-empty string), if any."""
    name = getattr(error, "dependency", None)
    return name if isinstance(name, str) and name else None


def retry_after_of(error: BaseException) -> float | None:
    """The wait an error asks for (``error.retry_after`` in seconds, e.g. HTTP Retry-After)."""
    value = getattr(error, "retry_after", None)
    if isinstance(value, int | float) and not isinstance(value, bool) and value > 0:
        return float(value)
    return None


__all__ = [
    "BreakerPolicy",
    "BreakerState",
    "Breakers",
    "CircuitBreaker",
    "dependency_of",
    "retry_after_of",
]
