"""Halted tenants: which tenant a worker group stopped handling, and why, for operators.

When a tenant's share of dead letters passes the DLQ budget (`frontdesk.worker.budget`),
the worker halts that tenant alone. Its events are not handled and not lost: each one read
meanwhile waits in the queue's longest retry tier (it uses no attempt, and an ordered
event holds its key there as any retried one does, so the key's later events are parked
in order behind it); a dedicated tenant's partitions are simply paused. Every other tenant
of the queue keeps flowing.

So that `frontdesk lag`, the console and anyone else can see it, the worker writes the halt
to the held-keys state topic (compacted) in its checkpoint transaction, and a tombstone
when the tenant resumes::

    key   "halt|<group>|<worker id>|<tenant>"
    value {"version": 1, "group": ..., "tenant": ..., "queue": ..., "reason": ...,
           "since": <ms>, "worker": ..., "updated": <ms>}

A worker rewrites its halts every `REFRESH_S`; readers leave out a halt not rewritten for
`STALE_MS` (its worker died, and a restart resumes every tenant).

The worker also exports the gauge ``frontdesk.tenant.halted`` (Prometheus
``frontdesk_tenant_halted{queue, tenant}``).
"""

from __future__ import annotations

import contextlib
import json
import time
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from confluent_kafka import KafkaException

from frontdesk import naming
from frontdesk.dlq.store import read_topic
from frontdesk.queues import QueueType
from frontdesk.topology import Topology
from frontdesk.worker.holds import FORMAT_VERSION, Refreshed

HALT_PREFIX = "halt|"
REFRESH_S = 60.0
"""A worker rewrites each of its halts this often, so a reader can tell a live halt from
one a worker left behind when it died (a restart resumes every tenant)."""
STALE_MS = 180_000
"""A halt not rewritten for this long is left out: its worker is gone."""


def halt_key(group: str, worker: str, tenant: str = "") -> str:
    """The state key of ``worker``'s halt of ``tenant`` (with no tenant: the prefix of all
    of that worker's halts). A halt lives in the worker's memory, so a restarted worker
    slot (same id) tombstones what its predecessor left: a restart resumes every tenant."""
    return f"{HALT_PREFIX}{group}|{worker}|{tenant}"


@dataclass(frozen=True, slots=True)
class TenantHalt:
    """One tenant a worker group has halted."""

    group: str
    tenant: str
    queue: str
    reason: str
    since: int
    """When it was halted (ms since the epoch)."""
    worker: str
    updated: int = 0
    """When the worker last wrote it (ms since the epoch; every `REFRESH_S`)."""

    def to_json(self) -> bytes:
        return json.dumps(
            {
                "version": FORMAT_VERSION,
                "group": self.group,
                "tenant": self.tenant,
                "queue": self.queue,
                "reason": self.reason,
                "since": self.since,
                "worker": self.worker,
                "updated": self.updated,
            },
            sort_keys=True,
        ).encode()

    @classmethod
    def from_json(cls, raw: bytes) -> TenantHalt:
        data = json.loads(raw)
        return cls(
            str(data["group"]),
            str(data["tenant"]),
            str(data.get("queue") or ""),
            str(data.get("reason") or ""),
            int(data.get("since") or 0),
            str(data.get("worker") or ""),
            int(data.get("updated") or data.get("since") or 0),
        )

    @property
    def since_time(self) -> datetime:
        return datetime.fromtimestamp(self.since / 1000, UTC)

    def to_dict(self) -> dict[str, Any]:
        return {
            "group": self.group,
            "tenant": self.tenant,
            "queue": self.queue,
            "reason": self.reason,
            "since": self.since_time.isoformat(timespec="milliseconds"),
            "worker": self.worker,
        }


def halted_tenants(
    config: dict[str, Any],
    namespace: str | None,
    *,
    owners: Iterable[str | None] = (None,),
    tenant: str | None = None,
) -> list[TenantHalt]:
    """Every tenant halted now by a live worker, oldest first, as said in the held-keys
    topics of ``owners`` (``None``: the shared one, where workers serving every tenant
    write; a dedicated tenant's own worker writes the tenant's)."""
    fresh = time.time_ns() // 1_000_000 - STALE_MS
    latest: dict[tuple[str | None, str], bytes | None] = {}
    for owner in owners:
        for msg in read_topic(config, naming.held_topic(namespace, owner)):
            key = (msg.key() or b"").decode("utf-8", "replace")
            if key.startswith(HALT_PREFIX):
                latest[owner, key] = msg.value()
    out = []
    for (owner, _), raw in latest.items():
        if raw is None:
            continue
        with contextlib.suppress(KeyError, TypeError, ValueError):
            halt = TenantHalt.from_json(raw)
            # A dedicated tenant writes its own held-keys topic: it can only speak for itself.
            if owner is not None and halt.tenant != owner:
                continue
            if halt.updated >= fresh and (tenant is None or halt.tenant == tenant):
                out.append(halt)
    return sorted(out, key=lambda h: (h.since, h.tenant))


class HaltedTenantsProvider:
    """Halted tenants per queue for the console's overview (a `QueueMetricsProvider`); a
    tenant user sees only its own tenant."""

    def __init__(self, config: dict[str, Any], topology: Topology, ttl: float = 5.0) -> None:
        self.config = config
        self.topology = topology
        self._all = Refreshed(
            ttl,
            lambda: halted_tenants(config, topology.namespace, owners=topology.state_owners()),
        )

    def metrics(self, queue: QueueType, tenant: str | None) -> list[tuple[str, str]]:
        try:
            every = self._all()
        except KafkaException:
            return [("halted tenants", "unavailable")]
        halts = [
            h for h in every if h.queue == queue.value and (tenant is None or h.tenant == tenant)
        ]
        if not halts:
            return [("halted tenants", "none")]
        return [
            ("halted tenants", ", ".join(sorted({h.tenant for h in halts}))),
            *[(f"halted: {h.tenant} ({h.group})", h.reason) for h in halts],
        ]


__all__ = [
    "HALT_PREFIX",
    "REFRESH_S",
    "STALE_MS",
    "HaltedTenantsProvider",
    "TenantHalt",
    "halt_key",
    "halted_tenants",
]
