"""Retry tiers wait without blocking: a tier partition is paused until its head is due.

Every record in ``<main>.retry.<delay>`` carries ``fd-due-at``. Records of one tier
partition are due in (nearly) the order they were written, because they all wait the same
delay; so the runtime holds the records it has fetched from a tier partition in a
`TierGate`, pauses the partition while the head is not due, and releases records only
once the wall clock has passed their own due time. Jitter can make a later record due
before an earlier one; it then waits behind the head, a little late, but never early.

The consumer keeps polling while gates are closed, so the worker stays in its group; a
paused partition costs nothing on the broker. Lateness (start of handling minus due time)
is measured here and exported, because "on time" is a promise worth watching.
"""

from __future__ import annotations

import bisect
import time
from collections import deque
from typing import Generic, TypeVar

from frontdesk import headers

T = TypeVar("T")


def due_at_ms(
    record_headers: list[tuple[str, bytes]] | None, latest: int | None = None
) -> int | None:
    """The record's due time in ms since the epoch, or ``None`` if it has none, or one the
    runtime cannot have written (garbage, or later than ``latest``): run it now, and let
    `frontdesk.worker.intake` dead-letter it as ``bad_header`` rather than let a forged
    time hold the tier partition behind it."""
    due = headers.whole_number(headers.get(record_headers, headers.DUE_AT))
    return None if due is None or (latest is not None and due > latest) else due


def now_ms() -> int:
    return time.time_ns() // 1_000_000


class TierGate(Generic[T]):
    """The fetched-but-not-due records of one tier partition, oldest first."""

    __slots__ = ("_held",)

    def __init__(self) -> None:
        self._held: deque[tuple[int, T]] = deque()

    def offer(self, due_ms: int | None, item: T, now: int) -> bool:
        """``True`` if ``item`` may run now; otherwise it is held behind the gate.

        An item due now still waits if older items are held, so one partition's records
        keep their order.
        """
        if not self._held and (due_ms is None or due_ms <= now):
            return True
        self._held.append((due_ms if due_ms is not None else now, item))
        return False

    def release(self, now: int) -> list[T]:
        """Pop and return every held item at the head whose due time has come."""
        out: list[T] = []
        while self._held and self._held[0][0] <= now:
            out.append(self._held.popleft()[1])
        return out

    def next_due(self) -> int | None:
        """Due time of the head, or ``None`` when nothing is held (the gate is open)."""
        return self._held[0][0] if self._held else None

    def clear(self) -> list[T]:
        items = [item for _, item in self._held]
        self._held.clear()
        return items

    def __len__(self) -> int:
        return len(self._held)


class LatenessStats:
    """A bounded sample of lateness values (ms) with percentiles.

    Keeps the most recent ``capacity`` values in a ring plus a sorted copy, which is plenty
    for a dashboard's p50/p99 and cheap at retry rates (retries are the exception).
    """

    __slots__ = ("_capacity", "_ring", "_sorted")

    def __init__(self, capacity: int = 4096) -> None:
        self._capacity = capacity
        self._ring: deque[float] = deque()
        self._sorted: list[float] = []

    def add(self, value_ms: float) -> None:
        if len(self._ring) == self._capacity:
            old = self._ring.popleft()
            del self._sorted[bisect.bisect_left(self._sorted, old)]
        self._ring.append(value_ms)
        bisect.insort(self._sorted, value_ms)

    def percentile(self, p: float) -> float | None:
        if not self._sorted:
            return None
        index = min(len(self._sorted) - 1, max(0, round(p / 100 * (len(self._sorted) - 1))))
        return self._sorted[index]

    def __len__(self) -> int:
        return len(self._ring)

    def summary(self) -> dict[str, float | int | None]:
        return {
            "count": len(self),
            "p50_ms": self.percentile(50),
            "p99_ms": self.percentile(99),
            "max_ms": self._sorted[-1] if self._sorted else None,
            "min_ms": self._sorted[0] if self._sorted else None,
        }
