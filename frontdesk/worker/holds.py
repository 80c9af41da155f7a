"""Held keys: an ordered event that waits (retry tier, DLQ, fallback) holds its key.

Ordered event types (``Event.ordered``: the booking lifecycle, availability, ...) promise
that a later event of a key is never handled before an earlier one, across retries,
restarts and rebalances. While such an event waits somewhere else, its key is **held**:

* later events of the key read from the main topic are **parked**: produced to
  ``<main>.parked`` (same key, so the same partition number) in the checkpoint transaction
  that commits their source offsets, with headers ``fd-hold-id``, ``fd-parked-by`` (the
  group) and the original coordinates. Every other key keeps flowing.
* the hold itself is a record of the compacted **held-keys state topic**
  ``<ns.>frontdesk.held`` (one partition), written by the owner of the main partition in the
  same transactions::

      key   "hold|<group>|<main topic>|<key>"
      value {"version": 1, "group": ..., "topic": <main>, "partition": 3, "key": "acme/p1",
             "hold_id": <uuid>, "event_id": <the holding event>, "event_type": ...,
             "stage": "retry" | "dlq" | "fallback" | "releasing",
             "since": <ms>, "parked": <count>, "cursor": <parked offset to resume from>|null,
             "updated": <ms>}

  and a tombstone once the key is released. A new owner of the partition (rebalance,
  restart, SIGKILL) reads the topic before it takes the partition, so it holds what its
  predecessor held.
* the holding event carries ``fd-holds: <hold id>`` wherever it goes. Whoever handles it
  successfully (a tier consumer of the same group, possibly another process, or the
  fallback deployment) writes ``"holder|<hold id>"`` = ``{"event_id", "status":
  "succeeded", ...}`` in the transaction that commits that success. A dead letter is given
  up on through the DLQ state topic (`frontdesk.dlq.store`): ``release`` or ``discard`` of
  the holding event's dead letter (matched by event id and key). A ``redrive`` brings the
  event back to the main topic with ``fd-redriven-from``; the owner runs it ahead of the
  parked events (it is the holder, so it is not parked).
* **release**: the owner reads the key's parked records back (``<main>.parked``, from the
  hold's cursor, or from shortly before ``since``; only records of this hold) and runs them
  in order ahead of anything newer of the key (newer main-topic records keep being parked
  meanwhile, behind them). A parked event that fails becomes the new holder and the rest
  stay parked. When a read finds nothing new and no park is uncommitted, the key is
  released: the hold is tombstoned and the key's events flow again.

This module holds the formats, the owner's in-memory table (`HoldTable`), the parked-topic
scan and `held_keys`, the read-only view for operators and the console.
"""

from __future__ import annotations

import contextlib
import json
import time
import uuid
from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Generic, Literal, TypeVar, cast

from confluent_kafka import Message, TopicPartition

from frontdesk import headers as hdr
from frontdesk import naming
from frontdesk.dlq.reader import read_ranges, reader_consumer
from frontdesk.dlq.store import read_topic
from frontdesk.naming import parse_topic
from frontdesk.queues import QueueType
from frontdesk.replay.source import PartitionRange
from frontdesk.topology import Topology

T = TypeVar("T")
FORMAT_VERSION = 1
HOLD_PREFIX = "hold|"
HOLDER_PREFIX = "holder|"
SCAN_MARGIN_MS = 5 * 60_000
"""A hold without a cursor is read back from this long before its ``since``: parked records
are stamped by the producing host's clock, which may be behind the one that held the key."""
_TIMEOUT = 30.0

Stage = Literal["retry", "dlq", "fallback", "releasing"]


def held_topic(namespace: str | None = None, tenant_id: str | None = None) -> str:
    """The held-keys state topic of the pooled tenants (``<ns.>frontdesk.held``) or of a
    dedicated tenant (``<ns.>tenant.<id>.frontdesk.held``)."""
    return naming.held_topic(namespace, tenant_id)


def hold_key(group: str, topic: str, key: str) -> str:
    return f"{HOLD_PREFIX}{group}|{topic}|{key}"


def holder_key(hold_id: str) -> str:
    return f"{HOLDER_PREFIX}{hold_id}"


def key_tenant(key: str) -> str:
    """The tenant of a ``<tenant>/<property>`` key (the runtime admits no other keys)."""
    return key.partition("/")[0]


def now_ms() -> int:
    return time.time_ns() // 1_000_000


def holds_of(record_headers: Iterable[tuple[str, bytes | None]] | None) -> list[str]:
    """The hold ids a record is the holder of (header ``fd-holds``)."""
    raw = hdr.get(list(record_headers or []), hdr.HOLDS)
    return [h for h in raw.split(",") if h] if raw else []


def with_hold(record_headers: hdr.Headers, hold_id: str) -> hdr.Headers:
    """``record_headers`` with ``hold_id`` added to ``fd-holds``."""
    ids = holds_of(record_headers)
    if hold_id not in ids:
        ids.append(hold_id)
    return hdr.replace(record_headers, {hdr.HOLDS: ",".join(ids)})


@dataclass(slots=True, eq=False)
class Hold:
    """One held key as its owner knows it; `record` is what the state topic keeps."""

    group: str
    topic: str
    """The main topic whose partition owns the hold."""
    partition: int
    key: str
    hold_id: str
    event_id: str
    """The holding event: the one the key waits for."""
    event_type: str
    stage: Stage
    since: int
    parked: int = 0
    cursor: int | None = None
    """Offset in ``<topic>.parked`` from which this hold's records are still to be run."""
    updated: int = 0
    # -- the owner's bookkeeping, not written -------------------------------------------
    generation: int = field(default=0)
    """Bumped whenever a release starts or stops: stale replay jobs recognise themselves."""
    pending_parks: int = 0
    """Records parked behind this hold whose transaction has not committed yet."""
    parks_committed: int = 0
    """Parks behind this hold committed so far by this owner: a release that read the
    parked topic while one was committed reads it again before it may finish."""
    parked_end: int = 0
    """One past the highest parked-topic offset this owner committed a park at: a release
    may only finish after a read that reached it."""
    replaying: int = 0
    """Parked records handed to the scheduler and not finished."""
    scanning: bool = False
    gave_up: bool = False
    """The holder was released or discarded by an operator rather than handled."""
    dirty: int = 0
    """Changes not yet written to the state topic (a counter, so a change made while a
    checkpoint is in flight is not lost when that checkpoint clears it)."""
    removed: bool = False

    @property
    def key_bytes(self) -> bytes:
        return self.key.encode()

    @property
    def state_key(self) -> str:
        return hold_key(self.group, self.topic, self.key)

    def record(self) -> dict[str, Any]:
        return {
            "version": FORMAT_VERSION,
            "group": self.group,
            "topic": self.topic,
            "partition": self.partition,
            "key": self.key,
            "hold_id": self.hold_id,
            "event_id": self.event_id,
            "event_type": self.event_type,
            "stage": self.stage,
            "since": self.since,
            "parked": self.parked,
            "cursor": self.cursor,
            "updated": self.updated,
        }

    def to_json(self) -> bytes:
        return json.dumps(self.record(), sort_keys=True).encode()

    @classmethod
    def from_record(cls, data: dict[str, Any]) -> Hold:
        return cls(
            group=str(data["group"]),
            topic=str(data["topic"]),
            partition=int(data["partition"]),
            key=str(data["key"]),
            hold_id=str(data["hold_id"]),
            event_id=str(data["event_id"]),
            event_type=str(data.get("event_type") or ""),
            stage=data.get("stage") or "retry",
            since=int(data.get("since") or 0),
            parked=int(data.get("parked") or 0),
            cursor=data.get("cursor"),
            updated=int(data.get("updated") or 0),
        )

    def scan_start(self) -> tuple[int | None, int]:
        """(parked offset to read from, or None; else the timestamp to look it up by)."""
        return self.cursor, max(0, self.since - SCAN_MARGIN_MS)


@dataclass(frozen=True, slots=True)
class HolderStatus:
    """What became of a holding event, written by whoever handled it."""

    hold_id: str
    event_id: str
    status: str
    """``succeeded`` releases the key; ``retrying``, ``dead_lettered``, ``diverted`` inform."""
    at: int
    by: str
    tenant: str | None = None
    """The holding event's tenant (``None`` in records written before it was kept)."""

    def to_json(self) -> bytes:
        data: dict[str, Any] = {
            "version": FORMAT_VERSION,
            "hold_id": self.hold_id,
            "event_id": self.event_id,
            "status": self.status,
            "at": self.at,
            "by": self.by,
        }
        if self.tenant is not None:
            data["tenant"] = self.tenant
        return json.dumps(data, sort_keys=True).encode()

    @classmethod
    def from_json(cls, raw: bytes) -> HolderStatus:
        data = json.loads(raw)
        return cls(
            str(data["hold_id"]),
            str(data["event_id"]),
            str(data["status"]),
            int(data.get("at") or 0),
            str(data.get("by") or ""),
            str(data["tenant"]) if data.get("tenant") is not None else None,
        )


def new_hold_id() -> str:
    return uuid.uuid4().hex


class HoldTable:
    """The holds of the main partitions one worker owns, and the state topic as it reads it.

    Fed from the state topics by the follower (`apply_state`, `apply_dlq_state`), so that a
    partition's holds can be restored when it is assigned, and so that the success of a
    holding event handled elsewhere, or an operator's release, reaches the owner.

    Every record counts only for the holds of the tenant whose state topic it was read from
    (its ``owner``: a dedicated tenant, or ``None`` for the shared topics). A dedicated
    tenant may write its own state topics, so a record there naming a pooled topic or
    another tenant's hold is ignored: it can neither hold nor release anyone else's key.
    """

    def __init__(
        self, group: str, namespace: str | None = None, known: Collection[str] | None = None
    ) -> None:
        self.group = group
        self.namespace = namespace
        self.known = known
        """Dedicated tenants with state topics of their own (`naming.state_owner`)."""
        self.owned: dict[tuple[str, int], dict[str, Hold]] = {}
        """(main topic, partition) -> key -> hold, for the partitions this worker owns."""
        self.by_id: dict[str, Hold] = {}
        self.stored: dict[str, dict[str, Any]] = {}
        """hold state key -> record: every hold of this group on the state topic."""
        self.statuses: dict[tuple[str | None, str], HolderStatus] = {}
        """(owner, hold id) -> what became of the holder, from the held-keys topics."""
        self.gave_up: dict[tuple[str | None, str, str], str] = {}
        """(owner, key, event id) -> ``release``/``discard``, from the DLQ state topics."""
        self.removed: list[Hold] = []
        """Released holds whose tombstone is not committed yet."""

    # -- the owner's table -----------------------------------------------------------------

    def get(self, topic: str, partition: int, key: bytes) -> Hold | None:
        holds = self.owned.get((topic, partition))
        if not holds:
            return None
        return holds.get(key.decode("utf-8", "replace"))

    def create(
        self,
        topic: str,
        partition: int,
        key: bytes,
        *,
        event_id: str,
        event_type: str,
        stage: Stage,
    ) -> Hold:
        now = now_ms()
        hold = Hold(
            group=self.group,
            topic=topic,
            partition=partition,
            key=key.decode("utf-8", "replace"),
            hold_id=new_hold_id(),
            event_id=event_id,
            event_type=event_type,
            stage=stage,
            since=now,
            updated=now,
            dirty=1,
        )
        self.owned.setdefault((topic, partition), {})[hold.key] = hold
        self.by_id[hold.hold_id] = hold
        return hold

    def touch(self, hold: Hold) -> None:
        hold.updated = now_ms()
        hold.dirty += 1

    def remove(self, hold: Hold) -> None:
        """The key is released: forget it (the tombstone is written by the next checkpoint)."""
        hold.removed = True
        hold.generation += 1
        self.touch(hold)
        holds = self.owned.get((hold.topic, hold.partition))
        if holds is not None and holds.get(hold.key) is hold:
            del holds[hold.key]
        self.by_id.pop(hold.hold_id, None)
        self.removed.append(hold)

    def restore(self, topic: str, partition: int) -> list[Hold]:
        """Take over the holds the state topic has for a newly assigned partition."""
        restored = []
        holds = self.owned.setdefault((topic, partition), {})
        for record in self.stored.values():
            if record.get("topic") != topic or record.get("partition") != partition:
                continue
            hold = Hold.from_record(record)
            if hold.stage == "releasing":
                hold.stage = "retry"  # the release is restarted by the new owner
            holds[hold.key] = hold
            self.by_id[hold.hold_id] = hold
            restored.append(hold)
        return restored

    def drop(self, topic: str, partition: int) -> list[Hold]:
        """The partition went away: its holds are the next owner's business."""
        holds = list(self.owned.pop((topic, partition), {}).values())
        for hold in holds:
            hold.generation += 1
            self.by_id.pop(hold.hold_id, None)
        return holds

    def dirty(self) -> list[Hold]:
        out = [h for holds in self.owned.values() for h in holds.values() if h.dirty]
        out += [h for h in self.removed if h.dirty]
        return out

    def written(self, snapshots: list[tuple[Hold, int]]) -> None:
        """These snapshots (hold, its ``dirty`` count when taken) were committed."""
        for hold, dirty in snapshots:
            hold.dirty = max(0, hold.dirty - dirty)
        self.removed = [h for h in self.removed if h.dirty]

    def owned_count(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for (topic, _), holds in self.owned.items():
            if holds:
                counts[topic] = counts.get(topic, 0) + len(holds)
        return counts

    def resolved(self, hold: Hold) -> bool:
        """Whether the holder is done with: handled successfully elsewhere, or given up."""
        owner = self.owner_of(hold.topic)
        status = self.statuses.get((owner, hold.hold_id))
        if (
            status is not None
            and status.event_id == hold.event_id
            and status.status == "succeeded"
            and status.tenant in (None, key_tenant(hold.key))
        ):
            return True
        action = self.gave_up.get((owner, hold.key, hold.event_id))
        if action is not None:
            hold.gave_up = True
            return True
        return False

    def dead_lettered(self, hold: Hold) -> bool:
        """Whether the holding event sits in a DLQ (so a redrive of it may come back)."""
        status = self.statuses.get((self.owner_of(hold.topic), hold.hold_id))
        return hold.stage == "dlq" or (
            status is not None
            and status.event_id == hold.event_id
            and status.status == "dead_lettered"
        )

    # -- the state topics as read by the follower -------------------------------------------

    def owner_of(self, topic: str) -> str | None:
        """Whose state topics hold the state of main topic ``topic``."""
        return naming.state_owner(topic, self.namespace, self.known)

    def apply_state(self, key: str, value: bytes | None, owner: str | None = None) -> Hold | None:
        """A record of ``owner``'s held-keys topic; returns an owned hold it may resolve."""
        if key.startswith(HOLD_PREFIX):
            group, _, rest = key[len(HOLD_PREFIX) :].partition("|")
            topic = rest.partition("|")[0]
            if group != self.group or self.owner_of(topic) != owner:
                return None
            if value is None:
                self.stored.pop(key, None)
            else:
                with contextlib.suppress(ValueError):
                    self.stored[key] = json.loads(value)
            return None
        if key.startswith(HOLDER_PREFIX):
            hold_id = key[len(HOLDER_PREFIX) :]
            if value is None:
                self.statuses.pop((owner, hold_id), None)
                return None
            try:
                status = HolderStatus.from_json(value)
            except (ValueError, KeyError):
                return None
            self.statuses[(owner, hold_id)] = status
            hold = self.by_id.get(hold_id)
            return hold if hold is not None and self.owner_of(hold.topic) == owner else None
        return None

    def apply_dlq_state(self, value: bytes | None, owner: str | None = None) -> list[Hold]:
        """A record of ``owner``'s DLQ state topic; returns owned holds a release/discard resolves
        (or a redrive to another topic than the original, e.g. ``--to pms.fallback``: the
        holder will not come back to be run first, so the key is given up on too).

        Matched by the dead letter's event id and key: an event id names one event wherever
        it was dead-lettered (main topic, tier, or after a diversion to the fallback queue).
        """
        if value is None:
            return []  # a re-opened dead letter: nothing to release
        try:
            data = json.loads(value)
        except ValueError:
            return []
        action, key, event_id = data.get("action"), data.get("key"), data.get("event_id")
        elsewhere = data.get("redriven_to") not in (None, data.get("original_topic"))
        gives_up = action in ("release", "discard") or (action == "redrive" and elsewhere)
        if not gives_up or not key or not event_id:
            return []
        self.gave_up[(owner, key, event_id)] = action
        return [
            h
            for h in self.by_id.values()
            if h.key == key and h.event_id == event_id and self.owner_of(h.topic) == owner
        ]


def scan_parked(
    config: dict[str, Any],
    parked: str,
    partition: int,
    *,
    key: bytes,
    hold_id: str,
    group: str,
    cursor: int | None,
    since_ms: int,
) -> tuple[list[Message], int]:
    """The records parked behind ``hold_id`` in one parked partition, oldest first, and
    the offset the read stopped at (the partition's end, for committed records, as it was).

    Reads from ``cursor`` (or the first offset at ``since_ms``) to the partition's end as it
    is now, committed records only. Blocking: the runner calls it from a thread.
    """
    consumer = reader_consumer(config, group)
    try:
        tp = TopicPartition(parked, partition)
        low, high = consumer.get_watermark_offsets(tp, timeout=_TIMEOUT, cached=False)
        if cursor is None:
            found = consumer.offsets_for_times(
                [TopicPartition(parked, partition, since_ms)], timeout=_TIMEOUT
            )
            start = found[0].offset if found and found[0].offset >= 0 else high
        else:
            start = cursor
        start = max(start, low)
        if start >= high:
            return [], high
        out = []
        for msg in read_ranges(consumer, [PartitionRange(parked, partition, start, high)]):
            record_headers = cast(list[tuple[str, bytes | None]], msg.headers() or [])
            if (
                msg.key() == key
                and hdr.get(record_headers, hdr.HOLD_ID) == hold_id
                and hdr.get(record_headers, hdr.PARKED_BY) == group
            ):
                out.append(msg)
        return out, high
    finally:
        consumer.close()


@dataclass(frozen=True, slots=True)
class HeldKey:
    """A held key as `held_keys` reports it."""

    group: str
    topic: str
    partition: int
    key: str
    tenant: str
    hold_id: str
    event_id: str
    event_type: str
    stage: str
    since: datetime
    parked: int

    def to_dict(self) -> dict[str, Any]:
        return {
            "group": self.group,
            "topic": self.topic,
            "partition": self.partition,
            "key": self.key,
            "tenant": self.tenant,
            "hold_id": self.hold_id,
            "event_id": self.event_id,
            "event_type": self.event_type,
            "stage": self.stage,
            "since": self.since.isoformat(timespec="milliseconds"),
            "parked": self.parked,
        }


def held_keys(
    config: dict[str, Any],
    topology: Topology | str | None,
    *,
    tenant: str | None = None,
    group: str | None = None,
) -> list[HeldKey]:
    """Every key held now (by any worker group of the namespace), oldest hold first.

    Reads the held-keys state topics to their end: the shared one and, with a topology,
    every dedicated tenant's (only the tenant's own and the shared one for ``tenant``); an
    empty list before the first hold. ``topology`` (or a namespace string) says which
    namespace; ``tenant`` and ``group`` narrow the answer (a tenant user must only see its
    own keys).
    """
    known: frozenset[str] = frozenset()
    owners: list[str | None] = [None]
    if isinstance(topology, Topology):
        namespace, owners, known = (
            topology.namespace,
            topology.state_owners(),
            topology.dedicated_ids,
        )
    else:
        namespace = topology
    if tenant is not None:
        owners = [o for o in owners if o in (None, tenant)]
    records: dict[str, dict[str, Any]] = {}
    statuses: dict[str, HolderStatus] = {}
    for owner in owners:
        topic = held_topic(namespace, owner)
        for msg in read_topic(config, topic):
            raw_key = (msg.key() or b"").decode("utf-8", "replace")
            value = msg.value()
            if raw_key.startswith(HOLDER_PREFIX):
                hold_id = raw_key[len(HOLDER_PREFIX) :]
                statuses.pop(hold_id, None)
                with contextlib.suppress(ValueError, KeyError, TypeError):
                    statuses[hold_id] = HolderStatus.from_json(value or b"")
                continue
            if not raw_key.startswith(HOLD_PREFIX):
                continue
            if value is None:
                records.pop(raw_key, None)
                continue
            try:
                data = json.loads(value)
            except ValueError:
                continue
            # A dedicated tenant writes its own held topic: only holds of its topics count.
            about = str(data.get("topic")) if isinstance(data, dict) else ""
            if naming.state_owner(about, namespace, known) == owner:
                records[raw_key] = data
    out = []
    for data in records.values():
        try:
            hold = Hold.from_record(data)
        except (KeyError, TypeError, ValueError):
            continue
        owner = hold.key.split("/", 1)[0]
        if (tenant is not None and owner != tenant) or (group is not None and hold.group != group):
            continue
        out.append(
            HeldKey(
                group=hold.group,
                topic=hold.topic,
                partition=hold.partition,
                key=hold.key,
                tenant=owner,
                hold_id=hold.hold_id,
                event_id=hold.event_id,
                event_type=hold.event_type,
                stage=_reported_stage(hold, statuses.get(hold.hold_id)),
                since=datetime.fromtimestamp(hold.since / 1000, UTC),
                parked=hold.parked,
            )
        )
    return sorted(out, key=lambda h: (h.since, h.key))


class Refreshed(Generic[T]):
    """A value read again at most every ``ttl`` seconds (the console's overview providers
    read state topics; a page view must not read them once per queue)."""

    def __init__(self, ttl: float, read: Callable[[], T]) -> None:
        self.ttl = ttl
        self._read = read
        self._cached: tuple[float, T] | None = None

    def __call__(self) -> T:
        now = time.monotonic()
        if self._cached is None or now - self._cached[0] > self.ttl:
            self._cached = (now, self._read())
        return self._cached[1]


def _reported_stage(hold: Hold, status: HolderStatus | None) -> str:
    """Where the holding event waits now. The owner writes the stage when its holder leaves
    the main topic (``retry``); a tier consumer that later dead-letters or diverts it says
    so only in the holder's status: for the same event, and written after the owner's last
    change to the hold, that status is the newer fact.
    """
    if (
        status is not None
        and status.event_id == hold.event_id
        and status.at >= hold.updated
        and hold.stage == "retry"
    ):
        return {"dead_lettered": "dlq", "diverted": "fallback"}.get(status.status, hold.stage)
    return hold.stage


class HeldKeysProvider:
    """Held keys per queue for the console's overview (a `QueueMetricsProvider`).

    Reads the held-keys state topic at most every ``ttl`` seconds; a tenant user sees only
    the keys of their own tenant.
    """

    def __init__(self, config: dict[str, Any], topology: Topology, ttl: float = 5.0) -> None:
        self.config = config
        self.topology = topology
        self._all = Refreshed(ttl, lambda: held_keys(self.config, self.topology))

    def metrics(self, queue: QueueType, tenant: str | None) -> list[tuple[str, str]]:
        namespace = self.topology.namespace
        held = [
            h
            for h in self._all()
            if (tenant is None or h.tenant == tenant)
            and (info := parse_topic(h.topic, namespace)) is not None
            and info.queue is queue
        ]
        if not held:
            return [("held keys", "0")]
        oldest = min(h.since for h in held)
        return [
            ("held keys", str(len(held))),
            ("events parked behind them", str(sum(h.parked for h in held))),
            ("held since", oldest.isoformat(timespec="seconds")),
        ]


__all__ = [
    "HeldKey",
    "HeldKeysProvider",
    "Hold",
    "HoldTable",
    "HolderStatus",
    "Refreshed",
    "held_keys",
    "held_topic",
    "holds_of",
    "scan_parked",
    "with_hold",
]
