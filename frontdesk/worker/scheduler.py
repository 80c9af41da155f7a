"""Per-key sequencing: different keys run concurrently, one key runs one record at a time.

The key is ``<tenant>/<property>``, so a property's events are handled in the order they
were written while other properties proceed. The scheduler is pure bookkeeping: it says
which record may start now; the runner owns the tasks and the concurrency limit. A record
waiting for its key never blocks another key (no head-of-line blocking inside a partition).

Keys are scoped to the whole worker process, not to one partition: an event coming back
from a retry tier and a fresh event of the same property are never handled at once here.
Records without a key have no order to keep and are never held.
"""

from __future__ import annotations

from collections import deque
from typing import Generic, TypeVar

T = TypeVar("T")


class KeyScheduler(Generic[T]):
    """Queues items per key and releases at most one item per key at a time."""

    __slots__ = ("_busy", "_ready", "_waiting")

    def __init__(self) -> None:
        self._busy: set[bytes] = set()
        """Keys with an item released and not yet done."""
        self._waiting: dict[bytes, deque[T]] = {}
        """Items behind a busy key, in arrival order."""
        self._ready: deque[T] = deque()
        """Items released to run, waiting only for a free concurrency slot."""

    def submit(self, key: bytes | None, item: T) -> None:
        """Add an item; it is ready at once unless an earlier item of its key is unfinished."""
        if key is None:
            self._ready.append(item)
        elif key in self._busy:
            self._waiting.setdefault(key, deque()).append(item)
        else:
            self._busy.add(key)
            self._ready.append(item)

    def next_ready(self) -> T | None:
        """The next item allowed to start (FIFO among ready items), or ``None``."""
        return self._ready.popleft() if self._ready else None

    def done(self, key: bytes | None) -> None:
        """The released item of ``key`` finished: release the key's next item, if any."""
        if key is None:
            return
        queue = self._waiting.get(key)
        if queue:
            self._ready.append(queue.popleft())
            if not queue:
                del self._waiting[key]
        else:
            self._busy.discard(key)

    @property
    def ready_count(self) -> int:
        return len(self._ready)

    @property
    def waiting_count(self) -> int:
        return sum(len(q) for q in self._waiting.values())

    @property
    def busy_keys(self) -> int:
        return len(self._busy)
