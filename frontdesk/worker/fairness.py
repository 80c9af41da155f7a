"""Tenant fairness on pooled topics: one tenant's burst takes at most its share of a worker.

Pooled tenants share ``pms.<queue>``; without care, a tenant that publishes ten thousand
events in a second fills every concurrency slot and the events of every other tenant on
the same partitions wait behind the burst. `TenantQueues` keeps the *ready* records (each
the oldest unfinished record of its key) per tenant and serves the tenants round-robin,
passing over a tenant that already runs ``cap`` records while another tenant has ready
work. It is work-conserving: with nobody else waiting, a tenant may use every slot.

The tenant is the key's prefix (``<tenant>/<property>``), so no record is decoded to find
it. How far ahead the worker can look for other tenants' records is bounded by its buffer
(``max_buffered``): a burst larger than the buffer still delays the records behind it.
"""

from __future__ import annotations

from collections import deque
from typing import Generic, TypeVar

T = TypeVar("T")


def tenant_of(key: bytes | None) -> bytes | None:
    """``b"acme"`` for the key ``b"acme/lisbon-1"``; ``None`` for a keyless record."""
    if key is None:
        return None
    return key.partition(b"/")[0]


class TenantQueues(Generic[T]):
    """Ready items per tenant, served round-robin under a per-tenant running cap."""

    __slots__ = ("_count", "_order", "_queues", "_running", "cap")

    def __init__(self, cap: int) -> None:
        if cap < 1:
            raise ValueError(f"tenant cap must be at least 1, got {cap}")
        self.cap = cap
        self._queues: dict[bytes | None, deque[T]] = {}
        self._order: deque[bytes | None] = deque()
        """Tenants with ready items, in round-robin order."""
        self._running: dict[bytes | None, int] = {}
        self._count = 0

    def push(self, tenant: bytes | None, item: T) -> None:
        queue = self._queues.get(tenant)
        if queue is None:
            queue = self._queues[tenant] = deque()
            self._order.append(tenant)
        queue.append(item)
        self._count += 1

    def pop(self) -> T | None:
        """The next item to start: the first tenant in turn under its cap, else (nobody
        under the cap has work) the first tenant in turn. Counts it as running."""
        if not self._order:
            return None
        chosen = None
        for tenant in self._order:
            if self._running.get(tenant, 0) < self.cap:
                chosen = tenant
                break
        if chosen is None:
            chosen = self._order[0]
        queue = self._queues[chosen]
        item = queue.popleft()
        self._count -= 1
        self._order.remove(chosen)
        if queue:
            self._order.append(chosen)  # its turn comes again after the others
        else:
            del self._queues[chosen]
        self._running[chosen] = self._running.get(chosen, 0) + 1
        return item

    def finished(self, tenant: bytes | None) -> None:
        left = self._running.get(tenant, 0) - 1
        if left > 0:
            self._running[tenant] = left
        else:
            self._running.pop(tenant, None)

    def running_by_tenant(self) -> dict[str, int]:
        return {
            (t.decode("utf-8", "replace") if t is not None else ""): n
            for t, n in self._running.items()
        }

    def __len__(self) -> int:
        return self._count
