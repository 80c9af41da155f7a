"""Consumer lag for operators: how far behind each group is, per queue, partition and tenant,
and how long its oldest waiting event has waited.

Offsets say *how much* is waiting; the age of the record at the committed offset says *how
late* the group is, which is what an SLA is about (1000 waiting events may be 2 seconds or 2
hours of work). Both come from the broker alone: committed offsets from the group
coordinator, ends from ``ListOffsets`` (read-committed, so open transactions do not count),
and the waiting records from a temporary consumer that assigns and seeks, never joining or
disturbing the group it inspects.

Tenancy: a dedicated tenant's topics are its own, so its lag is exact by topic. On a pooled
topic tenants share partitions; per-tenant lag needs the waiting records' ``fd-tenant``
header, so up to ``sample`` records per partition are read and, past that, the partition's
lag is split in the sample's proportions and marked ``exact=False``.
"""

from __future__ import annotations

import time
import uuid
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from confluent_kafka import (
    Consumer,
    IsolationLevel,
    KafkaError,
    KafkaException,
    TopicPartition,
)
from confluent_kafka.admin import (  # type: ignore[attr-defined]  # stubs lack __all__
    AdminClient,
    OffsetSpec,
)

from frontdesk import headers as hdr
from frontdesk.admin.groups import committed_offsets, describe_group
from frontdesk.errors import FrontdeskError
from frontdesk.isolated import Isolated, IsolatedProcessDied
from frontdesk.naming import parse_topic
from frontdesk.queues import QueueType

if TYPE_CHECKING:
    from frontdesk.worker.halts import TenantHalt

SAMPLE = 100
"""Waiting records read per pooled partition to split its lag by tenant."""
UNKNOWN_TENANT = "?"
"""Tenant of waiting records without an ``fd-tenant`` header (not written by our producer)."""
_INTERNAL_GROUPS = ("frontdesk-replay-", "frontdesk-lag-")


@dataclass(frozen=True, slots=True)
class PartitionLag:
    group: str
    topic: str
    partition: int
    queue: str | None
    """The queue type the topic serves; None for topics that are not frontdesk's."""
    role: str | None
    """``main``, ``retry``, ``dlq`` or ``parked``."""
    tenant: str | None
    """The dedicated tenant owning the topic; None on pooled (shared) topics."""
    committed: int | None
    """None when the group never committed here; it would then start at the earliest offset."""
    end: int
    lag: int
    oldest_timestamp: datetime | None
    """Kafka timestamp of the first waiting record; None when nothing waits."""
    oldest_age_seconds: float | None


@dataclass(frozen=True, slots=True)
class TenantLag:
    group: str
    queue: str | None
    tenant: str
    lag: int
    exact: bool
    """False when part of it was estimated from a sample of a pooled partition."""


@dataclass(frozen=True, slots=True)
class GroupLag:
    group: str
    state: str
    members: int
    partitions: list[PartitionLag]
    tenants: list[TenantLag]
    halted: list[TenantHalt] = field(default_factory=list)
    """Tenants the group's workers halted (the DLQ budget), and why."""

    @property
    def lag(self) -> int:
        return sum(p.lag for p in self.partitions)

    @property
    def oldest_age_seconds(self) -> float | None:
        ages = [p.oldest_age_seconds for p in self.partitions if p.oldest_age_seconds is not None]
        return max(ages, default=None)


@dataclass(frozen=True, slots=True)
class LagReport:
    taken_at: datetime
    sample: int
    groups: list[GroupLag] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready document (times ISO-8601), what ``frontdesk lag --json`` prints."""

        def convert(value: Any) -> Any:
            if isinstance(value, datetime):
                return value.isoformat(timespec="milliseconds")
            if isinstance(value, dict):
                return {k: convert(v) for k, v in value.items()}
            if isinstance(value, list):
                return [convert(v) for v in value]
            return value

        return {
            "taken_at": convert(self.taken_at),
            "sample": self.sample,
            "groups": [
                {
                    "group": g.group,
                    "state": g.state,
                    "members": g.members,
                    "lag": g.lag,
                    "oldest_age_seconds": g.oldest_age_seconds,
                    "partitions": [convert(asdict(p)) for p in g.partitions],
                    "tenants": [convert(asdict(t)) for t in g.tenants],
                    "halted": [h.to_dict() for h in g.halted],
                }
                for g in self.groups
            ],
        }


def measure_lag(
    admin: AdminClient,
    config: dict[str, Any],
    groups: Sequence[str] | None = None,
    *,
    namespace: str | None = None,
    sample: int = SAMPLE,
    timeout: float = 30.0,
    topics: Sequence[str] = (),
) -> LagReport:
    """Lag of ``groups`` (default: every group with committed offsets) on every partition of
    every topic they have committed on, and of ``topics`` (which a group may not have
    committed on yet: a retry tier that just received its first event). ``config`` is the
    librdkafka client configuration for the temporary reading consumer; ``namespace`` is the
    topology's, to recognise queues."""
    now = datetime.now(UTC)
    if groups is None:
        listing = admin.list_consumer_groups(request_timeout=timeout).result(timeout=timeout)
        groups = sorted(
            g.group_id for g in listing.valid if not g.group_id.startswith(_INTERNAL_GROUPS)
        )
    committed = {g: committed_offsets(admin, g, timeout) for g in groups}
    named = set(topics)
    partitions = _partitions(
        admin, sorted(named | {t for offsets in committed.values() for t, _ in offsets}), timeout
    )
    ends = _list_offsets(admin, partitions, OffsetSpec.latest(), timeout)  # type: ignore[no-untyped-call]
    starts = _list_offsets(admin, partitions, OffsetSpec.earliest(), timeout)  # type: ignore[no-untyped-call]
    snapshot = _Snapshot(starts, ends, config, namespace, sample, now, timeout)
    report = LagReport(now, sample)
    from frontdesk.worker.halts import halted_tenants  # noqa: PLC0415 - the worker package is big

    # A dedicated tenant's own worker writes its halts in the tenant's held-keys topic.
    parsed = (parse_topic(topic, namespace) for topic, _ in partitions)
    owners = {None} | {name.tenant_id for name in parsed if name is not None and name.tenant_id}
    halts = halted_tenants(config, namespace, owners=sorted(owners, key=lambda o: o or ""))
    for group in groups:
        state, members = _describe(admin, group, timeout)
        topics_of_group = named | {t for t, _ in committed[group]}
        mine = [tp for tp in partitions if tp[0] in topics_of_group]
        measured = snapshot.group_lag(group, state, members, mine, committed[group])
        halted = [h for h in halts if h.group == group]
        report.groups.append(replace(measured, halted=halted) if halted else measured)
    return report


class LagUnavailableError(FrontdeskError):
    """The broker did not answer a measurement (it is away, or a request timed out)."""


def measure_lag_of(
    config: dict[str, Any],
    groups: Sequence[str] | None,
    *,
    namespace: str | None,
    sample: int = SAMPLE,
    workers_only: bool = False,
) -> LagReport:
    """`measure_lag` with an admin client of its own, for `frontdesk.isolated.Isolated` to
    run in its child; ``workers_only`` measures the namespace's worker groups. Broker errors
    and timeouts come back as `LagUnavailableError`, which crosses the process boundary."""
    # A fresh client per measurement: one kept across a broker restart answered only
    # timeouts for the 90 s the restart scenario waited.
    admin = AdminClient(config)
    try:
        if workers_only:
            listing = admin.list_consumer_groups(request_timeout=10).result(timeout=10)
            groups = sorted(
                g.group_id for g in listing.valid if is_worker_group(g.group_id, namespace)
            )
        return measure_lag(admin, config, groups, namespace=namespace, sample=sample)
    except KafkaException as exc:
        raise LagUnavailableError(f"consumer lag unavailable: {exc}") from None
    except TimeoutError:
        raise LagUnavailableError("consumer lag unavailable: the broker did not answer") from None


def is_worker_group(group: str, namespace: str | None) -> bool:
    """A worker group of the namespace: ``[<ns>.][tenant.<id>.]frontdesk.<app>``."""
    if namespace and not group.startswith(f"{namespace}."):
        return False
    return ".frontdesk." in f".{group}" and not group.startswith(_INTERNAL_GROUPS)


@dataclass(frozen=True, slots=True)
class _Snapshot:
    """What every group's measurement shares: the partition ends and how to read."""

    starts: dict[tuple[str, int], int]
    ends: dict[tuple[str, int], int]
    config: dict[str, Any]
    namespace: str | None
    sample: int
    now: datetime
    timeout: float

    def group_lag(
        self,
        group: str,
        state: str,
        members: int,
        partitions: Sequence[tuple[str, int]],
        committed: dict[tuple[str, int], int],
    ) -> GroupLag:
        waiting_from: dict[tuple[str, int], int] = {}
        lags: dict[tuple[str, int], int] = {}
        for key in partitions:
            done = committed.get(key)
            position = self.starts[key] if done is None else max(done, self.starts[key])
            lags[key] = max(0, self.ends[key] - position)
            if lags[key]:
                waiting_from[key] = position
        names = {t: parse_topic(t, self.namespace) for t, _ in partitions}
        # One record gives a dedicated partition's oldest age; pooled ones are sampled.
        wants = {
            key: 1 if (n := names[key[0]]) is not None and n.tenant_id else min(self.sample, lag)
            for key, lag in lags.items()
            if key in waiting_from
        }
        heads = _read_waiting(self.config, waiting_from, self.ends, wants, self.timeout)
        for key, read in heads.items():
            if read.complete:
                # Offsets also count transaction markers, which no consumer ever sees: a
                # partition whose waiting range was read to its end waits for what was read.
                lags[key] = sum(read.tenants.values())

        rows: list[PartitionLag] = []
        by_tenant: dict[tuple[str | None, str], int] = defaultdict(int)
        inexact: set[tuple[str | None, str]] = set()
        for key in partitions:
            name = names[key[0]]
            queue = name.queue.value if name else None
            head = heads.get(key)
            oldest = head.first_timestamp if head else None
            rows.append(
                PartitionLag(
                    group=group,
                    topic=key[0],
                    partition=key[1],
                    queue=queue,
                    role=name.role if name else None,
                    tenant=name.tenant_id if name else None,
                    committed=committed.get(key),
                    end=self.ends[key],
                    lag=lags[key],
                    oldest_timestamp=oldest,
                    oldest_age_seconds=(
                        None if oldest is None else max(0.0, (self.now - oldest).total_seconds())
                    ),
                )
            )
            if not lags[key]:
                continue
            if name is not None and name.tenant_id:
                by_tenant[(queue, name.tenant_id)] += lags[key]
            elif head is None or not head.tenants:
                by_tenant[(queue, UNKNOWN_TENANT)] += lags[key]
                inexact.add((queue, UNKNOWN_TENANT))
            else:
                for tenant, share in _split(lags[key], head.tenants, head.complete).items():
                    by_tenant[(queue, tenant)] += share
                    if not head.complete:
                        inexact.add((queue, tenant))
        ordered = sorted(by_tenant.items(), key=lambda kv: (kv[0][0] or "", kv[0][1]))
        tenants = [
            TenantLag(group, queue, tenant, lag, (queue, tenant) not in inexact)
            for (queue, tenant), lag in ordered
        ]
        return GroupLag(group, state, members, rows, tenants)


def _split(lag: int, sampled: Counter[str], complete: bool) -> dict[str, int]:
    """Share a partition's lag among tenants: exact counts when every waiting record was
    read, else proportional to the sample (largest remainders, so the shares sum to lag)."""
    if complete:
        return dict(sampled)
    total = sum(sampled.values())
    raw = {t: lag * n / total for t, n in sampled.items()}
    shares = {t: int(v) for t, v in raw.items()}
    for t in sorted(raw, key=lambda t: raw[t] - shares[t], reverse=True)[
        : lag - sum(shares.values())
    ]:
        shares[t] += 1
    return shares


@dataclass
class _Head:
    """What was read of one partition's waiting records."""

    first_timestamp: datetime | None = None
    tenants: Counter[str] = field(default_factory=Counter)
    complete: bool = False
    """Every waiting record was read, so ``tenants`` are exact counts."""


def _read_waiting(
    config: dict[str, Any],
    waiting_from: dict[tuple[str, int], int],
    ends: dict[tuple[str, int], int],
    wants: dict[tuple[str, int], int],
    timeout: float,
) -> dict[tuple[str, int], _Head]:
    """Read up to ``wants[p]`` records of each partition from its first waiting offset."""
    if not waiting_from:
        return {}
    consumer = Consumer(
        {
            **config,
            # Required by the client, never joined or committed: assign + seek only.
            "group.id": f"frontdesk-lag-{uuid.uuid4().hex}",
            "enable.auto.commit": False,
            "enable.partition.eof": True,
            "isolation.level": "read_committed",
            "auto.offset.reset": "earliest",
        }
    )
    heads = {key: _Head() for key in waiting_from}
    todo = set(waiting_from)
    try:
        consumer.assign([TopicPartition(t, p, o) for (t, p), o in waiting_from.items()])
        deadline = time.monotonic() + timeout
        while todo and time.monotonic() < deadline:
            for msg in consumer.consume(500, 0.5):
                key = (msg.topic() or "", msg.partition() or 0)
                if key not in todo:
                    continue
                head, error = heads[key], msg.error()
                if error is not None:
                    if error.code() == KafkaError._PARTITION_EOF:
                        head.complete = True
                        _done(consumer, todo, key)
                    elif error.fatal() or not error.retriable():
                        raise KafkaException(error)
                    continue
                offset = msg.offset() or 0
                if head.first_timestamp is None:
                    head.first_timestamp = datetime.fromtimestamp(msg.timestamp()[1] / 1000, UTC)
                head.tenants[_tenant(msg.headers())] += 1
                if offset + 1 >= ends[key]:
                    head.complete = True
                if head.complete or sum(head.tenants.values()) >= wants[key]:
                    _done(consumer, todo, key)
    finally:
        consumer.close()
    return heads


def _done(consumer: Consumer, todo: set[tuple[str, int]], key: tuple[str, int]) -> None:
    todo.discard(key)
    consumer.pause([TopicPartition(*key)])


def _tenant(raw: Any) -> str:
    pairs: Iterable[tuple[str, Any]] = (raw.items() if isinstance(raw, dict) else raw) or []
    for name, value in reversed(list(pairs)):
        if name == hdr.TENANT and value is not None:
            return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)
    return UNKNOWN_TENANT


def _describe(admin: AdminClient, group: str, timeout: float) -> tuple[str, int]:
    description = describe_group(admin, group, timeout)
    if description is None:
        return "dead", 0
    return description.state.name.lower(), len(description.members)


def _partitions(admin: AdminClient, topics: Sequence[str], timeout: float) -> list[tuple[str, int]]:
    if not topics:
        return []
    metadata = admin.list_topics(timeout=timeout).topics
    out: list[tuple[str, int]] = []
    for topic in topics:
        meta = metadata.get(topic)
        if meta is not None and meta.error is None:  # a deleted topic keeps stale commits
            out += [(topic, p) for p in sorted(meta.partitions)]
    return out


def _list_offsets(
    admin: AdminClient, partitions: Sequence[tuple[str, int]], spec: OffsetSpec, timeout: float
) -> dict[tuple[str, int], int]:
    if not partitions:
        return {}
    request = {TopicPartition(t, p): spec for t, p in partitions}
    futures = admin.list_offsets(
        request, isolation_level=IsolationLevel.READ_COMMITTED, request_timeout=timeout
    )
    return {
        (tp.topic, tp.partition): int(f.result(timeout=timeout).offset) for tp, f in futures.items()
    }


__all__ = [
    "SAMPLE",
    "UNKNOWN_TENANT",
    "GroupLag",
    "LagProvider",
    "LagReport",
    "LagUnavailableError",
    "PartitionLag",
    "TenantLag",
    "is_worker_group",
    "measure_lag",
    "measure_lag_of",
]


class LagProvider:
    """Consumer lag per queue for the console's overview (a ``QueueMetricsProvider``).

    Measures the namespace's worker groups (``[<ns>.][tenant.<id>.]frontdesk.<app>``) at
    most every ``ttl`` seconds, so a page load does not rescan the cluster; a tenant user
    sees only its own tenant's share.
    """

    def __init__(self, config: dict[str, Any], namespace: str | None, ttl: float = 10.0) -> None:
        self.config = config
        self.namespace = namespace
        self.ttl = ttl
        self._cached: tuple[float, LagReport] | None = None
        self._appended: dict[QueueType, tuple[float, int]] = {}
        """Per queue, the first measurement's time and the main topics' summed end offsets:
        the rate since then is the queue's incoming throughput."""

        self._measurer = Isolated()
        """The console runs for days: a librdkafka abort must not take it down."""

    def report(self) -> LagReport:
        now = time.monotonic()
        if self._cached is None or now - self._cached[0] > self.ttl:
            report = self._measurer.call(
                measure_lag_of, self.config, None, namespace=self.namespace, workers_only=True
            )
            self._cached = (now, report)
        return self._cached[1]

    def close(self) -> None:
        self._measurer.close()

    def metrics(self, queue: QueueType, tenant: str | None) -> list[tuple[str, str]]:
        try:
            groups = self.report().groups
        except (LagUnavailableError, IsolatedProcessDied):
            label = "consumer lag (your events)" if tenant is not None else "consumer lag"
            return [(label, "unavailable")]
        if tenant is not None:
            mine = sum(
                t.lag for g in groups for t in g.tenants if t.queue == queue and t.tenant == tenant
            )
            return [("consumer lag (your events)", str(mine))]
        rows = [p for g in groups for p in g.partitions if p.queue == queue]
        ages = [p.oldest_age_seconds for p in rows if p.lag and p.oldest_age_seconds is not None]
        return [
            ("consumer lag", str(sum(p.lag for p in rows))),
            ("oldest waiting event", f"{max(ages):.0f}s" if ages else "-"),
            ("incoming", self._throughput(queue, rows)),
        ]

    def _throughput(self, queue: QueueType, rows: list[PartitionLag]) -> str:
        """Offsets appended per second to the queue's main topics since the first look
        (offsets, not events: transaction markers count too). Operators only: a pooled
        topic's rate speaks of every tenant on it."""
        ends = {(p.topic, p.partition): p.end for p in rows if p.role == "main"}
        now, total = time.monotonic(), sum(ends.values())
        first = self._appended.setdefault(queue, (now, total))
        if now - first[0] < 1.0:
            return "-"
        return f"{(total - first[1]) / (now - first[0]):.1f} offsets/s"
