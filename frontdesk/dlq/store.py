"""Review state and audit trail, kept in Kafka next to the DLQs they describe.

Kafka cannot delete one record, so "handled" is a fact written beside the dead letter:

``<ns.>frontdesk.dlq.state`` (compacted, 1 partition)
    key = the dead-letter id ``<dlq topic>:<partition>:<offset>`` (UTF-8); value = the
    JSON `StateRecord` of the latest action on it (``redrive``, ``discard`` or
    ``release``); a null value (tombstone) re-opens it. Compaction keeps the latest action
    per id for as long as the topic lives, so reading it whole gives the current state.
    **The worker runtime reads this topic** to release the keys it holds for ordered
    events: a record with ``action == "release"`` (or ``"discard"``) tells it to give up on
    the dead letter at ``id`` and let the parked events of ``original_topic``/``key`` flow.

``<ns.>frontdesk.audit`` (not compacted, kept forever)
    key = the audit id (a uuid4); value = the JSON `AuditRecord`: who, what, which ids,
    when, why. One record per action, however many dead letters it covered; compaction
    would lose the history of an id acted on twice, hence a second topic.

Both are created on first use (idempotently) because the topology file declares the queues,
not the review machinery. Values carry ``"version": 1`` so the format can grow.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Iterable, Iterator
from dataclasses import MISSING, asdict, dataclass, field, fields
from datetime import UTC, datetime
from typing import Any, Literal, TypeVar

from confluent_kafka import KafkaError, KafkaException, TopicPartition
from confluent_kafka.admin import AdminClient
from confluent_kafka.cimpl import NewTopic

from frontdesk.dlq.ids import DeadLetterId
from frontdesk.dlq.model import DeadLetter, whole_number
from frontdesk.dlq.reader import read_ranges, reader_consumer
from frontdesk.replay.source import PartitionRange, watermarks

Action = Literal["redrive", "discard", "release"]
ACTIONS: tuple[Action, ...] = ("redrive", "discard", "release")
FORMAT_VERSION = 1
_TIMEOUT = 30.0

STATE_SUFFIX = "frontdesk.dlq.state"
AUDIT_SUFFIX = "frontdesk.audit"


def state_topic(namespace: str | None = None) -> str:
    return f"{namespace}.{STATE_SUFFIX}" if namespace else STATE_SUFFIX


def audit_topic(namespace: str | None = None) -> str:
    return f"{namespace}.{AUDIT_SUFFIX}" if namespace else AUDIT_SUFFIX


STATE_CONFIG = {
    "cleanup.policy": "compact",
    # Keep the state of a dead letter as long as the DLQ might still hold it (30d) and then
    # some: compaction, not time, is what bounds this topic.
    "retention.ms": "-1",
    # A tombstone (re-open) must outlive a slow reader's scan of the topic.
    "delete.retention.ms": str(7 * 86_400_000),
}
AUDIT_CONFIG = {
    "cleanup.policy": "delete",
    # An audit trail is kept until someone decides otherwise; lower it by hand if policy says.
    "retention.ms": "-1",
}


def ensure_topics(admin: AdminClient, namespace: str | None, replication_factor: int = 1) -> None:
    """Create the state and audit topics if missing; a no-op when they exist.

    Two reviewers acting at once may both try to create them: "already exists" is success.
    """
    wanted = [
        NewTopic(state_topic(namespace), 1, replication_factor, config=STATE_CONFIG),
        NewTopic(audit_topic(namespace), 1, replication_factor, config=AUDIT_CONFIG),
    ]
    existing = admin.list_topics(timeout=_TIMEOUT).topics
    missing = [t for t in wanted if t.topic not in existing]
    if missing:
        for future in admin.create_topics(missing, operation_timeout=_TIMEOUT).values():
            try:
                future.result(timeout=_TIMEOUT)
            except KafkaException as exc:
                if exc.args[0].code() != KafkaError.TOPIC_ALREADY_EXISTS:
                    raise


def now() -> datetime:
    return datetime.now(UTC)


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


_CHECKS: dict[str, Callable[[Any], bool]] = {
    "str": lambda v: isinstance(v, str),
    "str | None": lambda v: v is None or isinstance(v, str),
    "int": _is_int,
    "int | None": lambda v: v is None or _is_int(v),
    "Action": lambda v: v in ACTIONS,
    "list[str]": lambda v: isinstance(v, list) and all(isinstance(i, str) for i in v),
    "dict[str, Any]": lambda v: isinstance(v, dict),
}
"""The field types of the records below (as annotated), and how a JSON value passes."""

_Record = TypeVar("_Record", "StateRecord", "AuditRecord")


def _load(cls: type[_Record], raw: bytes) -> _Record:
    """Parse one record; ValueError naming what is wrong for anything not of its shape.

    Anyone who can write to these topics could write anything: one stray record must be
    skipped, not break every page that reads the topic.
    """
    try:
        data = json.loads(raw)
    except (ValueError, RecursionError):
        raise ValueError("not JSON") from None
    if not isinstance(data, dict):
        raise ValueError("not a JSON object")
    values = {}
    for f in fields(cls):
        if f.name not in data:
            if f.default is MISSING and f.default_factory is MISSING:
                raise ValueError(f"no {f.name!r}")
            continue
        if not _CHECKS[str(f.type)](data[f.name]):
            raise ValueError(f"{f.name!r} is not a {f.type}")
        values[f.name] = data[f.name]
    return cls(**values)


@dataclass(frozen=True, slots=True)
class StateRecord:
    """The latest action on one dead letter: the value of the state topic."""

    id: str
    action: Action
    at: str
    """ISO-8601 UTC."""
    actor: str
    reason: str
    audit_id: str
    tenant: str | None
    event_type: str | None
    event_id: str | None
    original_topic: str | None
    original_partition: int | None
    original_offset: int | None
    key: str | None
    """The held key as text (``<tenant>/<property>``); what the runtime releases."""
    redriven_to: str | None = None
    version: int = FORMAT_VERSION

    @classmethod
    def of(
        cls,
        dead_letter: DeadLetter,
        action: Action,
        *,
        actor: str,
        reason: str,
        audit_id: str,
        at: datetime,
        redriven_to: str | None = None,
    ) -> StateRecord:
        history = dead_letter.history()
        # The runtime releases holds by key: only a key the record's topic vouches for, so a
        # planted dead letter naming another tenant's key cannot release that tenant's hold.
        # The original topic is the one its DLQ belongs to, never the (forgeable) header.
        tenancy = dead_letter.tenancy
        trusted = tenancy.topic is not None and not tenancy.mismatch
        return cls(
            id=str(dead_letter.id),
            action=action,
            at=at.isoformat(timespec="milliseconds"),
            actor=actor,
            reason=reason,
            audit_id=audit_id,
            tenant=dead_letter.tenant,
            event_type=dead_letter.event_type,
            event_id=dead_letter.event_id,
            original_topic=tenancy.topic.main if tenancy.topic is not None else None,
            original_partition=whole_number(history["original_partition"]),
            original_offset=whole_number(history["original_offset"]),
            key=dead_letter.key_text if trusted else None,
            redriven_to=redriven_to,
        )

    def to_json(self) -> bytes:
        return json.dumps(asdict(self), sort_keys=True).encode()

    @classmethod
    def from_json(cls, raw: bytes) -> StateRecord:
        return _load(cls, raw)


@dataclass(frozen=True, slots=True)
class AuditRecord:
    """One action as the audit topic keeps it."""

    audit_id: str
    at: str
    actor: str
    action: Action
    reason: str
    ids: list[str]
    tenants: list[str]
    """Tenants whose dead letters the action touched (tenant users see only their own)."""
    target: str | None = None
    """Where a redrive sent the events (``original`` when each went to its own topic)."""
    source: str = "cli"
    """``cli`` or ``console``."""
    details: dict[str, Any] = field(default_factory=dict)
    version: int = FORMAT_VERSION

    @classmethod
    def new(
        cls,
        action: Action,
        dead_letters: Iterable[DeadLetter],
        *,
        actor: str,
        reason: str,
        at: datetime,
        target: str | None = None,
        source: str = "cli",
    ) -> AuditRecord:
        chosen = list(dead_letters)
        return cls(
            audit_id=str(uuid.uuid4()),
            at=at.isoformat(timespec="milliseconds"),
            actor=actor,
            action=action,
            reason=reason,
            ids=[str(d.id) for d in chosen],
            # Every tenant the records or their topics name: a tenant user's audit page
            # shows only entries naming that tenant alone, so a mismatched one is hidden.
            tenants=sorted({t for d in chosen for t in d.tenancy.names}),
            target=target,
            source=source,
        )

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def to_json(self) -> bytes:
        return json.dumps(asdict(self), sort_keys=True).encode()

    @classmethod
    def from_json(cls, raw: bytes) -> AuditRecord:
        return _load(cls, raw)


def _ranges(config: dict[str, Any], topic: str, last: int | None) -> Iterator[Any]:
    consumer = reader_consumer(config)
    try:
        meta = consumer.list_topics(topic, timeout=_TIMEOUT).topics.get(topic)
        if meta is None or meta.error is not None or not meta.partitions:
            return
        ranges = []
        for p in sorted(meta.partitions):
            low, high = watermarks(consumer, TopicPartition(topic, p), _TIMEOUT)
            start = low if last is None else max(low, high - last)
            ranges.append(PartitionRange(topic, p, start, high))
        yield from read_ranges(consumer, ranges)
    finally:
        consumer.close()


def read_state(config: dict[str, Any], namespace: str | None) -> dict[DeadLetterId, StateRecord]:
    """The current state of every handled dead letter (an empty map before first use)."""
    state: dict[DeadLetterId, StateRecord] = {}
    for msg in _ranges(config, state_topic(namespace), None):
        raw_key = msg.key()
        if raw_key is None:
            continue
        try:
            dl_id = DeadLetterId.parse(raw_key.decode("utf-8", errors="replace"))
        except ValueError:
            continue  # not written by us; one stray record must not hide every state
        value = msg.value()
        if value is None:
            state.pop(dl_id, None)
            continue
        try:
            state[dl_id] = StateRecord.from_json(value)
        except ValueError:
            continue  # the same: a stray record changes nothing
    return state


@dataclass(frozen=True, slots=True)
class AuditTrail:
    """The audit records read, newest first, and where records could not be read."""

    records: list[AuditRecord]
    unreadable: list[str] = field(default_factory=list)
    """``offset N: why`` of each record that is not an audit record (skipped)."""

    def warning(self) -> str | None:
        """One line for operators when records were skipped; None when none were."""
        if not self.unreadable:
            return None
        shown = "; ".join(self.unreadable[:3]) + ("; ..." if len(self.unreadable) > 3 else "")
        return f"skipped {len(self.unreadable)} unreadable audit record(s): {shown}"


def read_audit(config: dict[str, Any], namespace: str | None, *, last: int = 200) -> AuditTrail:
    """The ``last`` audit records, newest first; unreadable ones are skipped and listed."""
    records, unreadable = [], []
    for msg in _ranges(config, audit_topic(namespace), last):
        value = msg.value()
        if value is None:
            continue
        try:
            records.append(AuditRecord.from_json(value))
        except ValueError as exc:
            unreadable.append(f"offset {msg.offset()}: {exc}")
    return AuditTrail(sorted(records, key=lambda r: r.at, reverse=True), unreadable)
