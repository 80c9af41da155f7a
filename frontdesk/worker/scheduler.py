"""Per-key sequencing and per-tenant fairness: which record may start next.

**Keys.** The key is ``<tenant>/<property>``, so a property's events are handled in the
order they were written while other properties proceed: different keys run concurrently,
one key runs one record at a time. A record waiting for its key never blocks another key
(no head-of-line blocking inside a partition). Keys are scoped to the whole worker process,
not to one partition: an event coming back from a retry tier and a fresh event of the same
property are never handled at once here. Records without a key are never held.

**Tenants** (`frontdesk.worker.fairness`). Records whose key is free are *ready*; ready
records are queued per tenant (the key's prefix) and served round-robin, and a tenant that
already runs ``tenant_cap`` records is passed over while another tenant has ready work. A
burst of one tenant on a pooled topic therefore takes at most its share of the concurrency
while others wait, and all of it when nobody else has work (the cap never idles a slot).
Only ready records, one per key, are ever reordered, so per-key order is untouched.

Pure bookkeeping: it says which record may start now; the runner owns the tasks and the
concurrency limit.
"""

from __future__ import annotations

from collections import deque
from typing import Generic, TypeVar

from frontdesk.worker.fairness import TenantQueues, tenant_of

T = TypeVar("T")


class KeyScheduler(Generic[T]):
    """Queues items per key and releases at most one item per key at a time."""

    __slots__ = ("_busy", "_fair", "_ready", "_waiting")

    def __init__(self, tenant_cap: int | None = None) -> None:
        self._busy: set[bytes] = set()
        """Keys with an item released and not yet done."""
        self._waiting: dict[bytes, deque[T]] = {}
        """Items behind a busy key, in arrival order."""
        self._ready: deque[T] = deque()
        """Items released to run, waiting only for a free slot (no fairness)."""
        self._fair: TenantQueues[T] | None = (
            TenantQueues(tenant_cap) if tenant_cap is not None else None
        )
        """Ready items per tenant, when a tenant's share of the slots is capped."""

    def submit(self, key: bytes | None, item: T) -> None:
        """Add an item; it is ready at once unless an earlier item of its key is unfinished."""
        if key is not None:
            if key in self._busy:
                self._waiting.setdefault(key, deque()).append(item)
                return
            self._busy.add(key)
        self._make_ready(key, item)

    def submit_first(self, key: bytes, items: list[T]) -> None:
        """Add items, in this order, ahead of every waiting item of their key (a replay of
        events that were parked before those)."""
        if not items:
            return
        if key not in self._busy:
            self._busy.add(key)
            self._make_ready(key, items[0])
            items = items[1:]
            if not items:
                return
        self._waiting.setdefault(key, deque()).extendleft(reversed(items))

    def _make_ready(self, key: bytes | None, item: T) -> None:
        if self._fair is None:
            self._ready.append(item)
        else:
            self._fair.push(tenant_of(key), item)

    def next_ready(self) -> T | None:
        """The next item allowed to start, or ``None``; the caller starts it."""
        if self._fair is None:
            return self._ready.popleft() if self._ready else None
        return self._fair.pop()

    def done(self, key: bytes | None) -> None:
        """The released item of ``key`` finished: release the key's next item, if any."""
        if self._fair is not None:
            self._fair.finished(tenant_of(key))
        if key is None:
            return
        queue = self._waiting.get(key)
        if queue:
            item = queue.popleft()
            if not queue:
                del self._waiting[key]
            self._make_ready(key, item)
        else:
            self._busy.discard(key)

    def running_by_tenant(self) -> dict[str, int]:
        """Items released and not done, per tenant (only when fairness is on)."""
        return self._fair.running_by_tenant() if self._fair is not None else {}

    @property
    def ready_count(self) -> int:
        return len(self._fair) if self._fair is not None else len(self._ready)

    @property
    def waiting_count(self) -> int:
        return sum(len(q) for q in self._waiting.values())

    @property
    def busy_keys(self) -> int:
        return len(self._busy)
