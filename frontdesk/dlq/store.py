"""Review state and audit trail, kept in Kafka next to the DLQs they describe.

Kafka cannot delete one record, so "handled" is a fact written beside the dead letter:

``<ns.>frontdesk.dlq.state`` (compacted, 1 partition), and for the dead letters of a
dedicated tenant ``<ns.>tenant.<id>.frontdesk.dlq.state`` (under the tenant's prefix, so
the tenant's own worker reads it with the tenant's ACLs; declared by the topology)
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

The shared ones are created on first use (idempotently) because the topology file declares
the queues, not the review machinery. Values carry ``"version": 1`` so the format can grow.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Iterable, Iterator
from dataclasses import MISSING, asdict, dataclass, field, fields
from datetime import UTC, datetime
from typing import Any, Literal, TypeVar

from confluent_kafka import TopicPartition
from confluent_kafka.admin import AdminClient

from frontdesk import headers as hdr
from frontdesk import naming
from frontdesk.admin.ensure import create_missing
from frontdesk.dlq.ids import DeadLetterId
from frontdesk.dlq.model import DeadLetter
from frontdesk.dlq.reader import read_ranges, reader_consumer
from frontdesk.replay.source import PartitionRange, watermarks
from frontdesk.topology import audit_spec, dlq_state_spec

Action = Literal["redrive", "discard", "release"]
ACTIONS: tuple[Action, ...] = ("redrive", "discard", "release")
FORMAT_VERSION = 1
_TIMEOUT = 30.0


def state_topic(namespace: str | None = None, tenant_id: str | None = None) -> str:
    """The review state topic of the pooled tenants' dead letters, or of a dedicated
    tenant's (under its prefix: `frontdesk.naming.dlq_state_topic`)."""
    return naming.dlq_state_topic(namespace, tenant_id)


def audit_topic(namespace: str | None = None) -> str:
    return naming.audit_topic(namespace)


def ensure_topics(
    admin: AdminClient,
    namespace: str | None,
    replication_factor: int = 1,
    tenants: Iterable[str | None] = (None,),
) -> None:
    """Create the audit topic and the state topics of ``tenants`` (``None``: the shared
    one) if missing; a no-op when they exist. A dedicated tenant's state topic is declared
    by the topology; creating it here serves clusters applied before it was."""
    specs = [audit_spec(namespace, replication_factor)]
    specs += [dlq_state_spec(namespace, t, replication_factor) for t in dict.fromkeys(tenants)]
    create_missing(admin, specs)


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
            original_partition=hdr.whole_number(history["original_partition"]),
            original_offset=hdr.whole_number(history["original_offset"]),
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


def read_topic(config: dict[str, Any], topic: str, last: int | None = None) -> Iterator[Any]:
    """The committed records of ``topic`` up to its end as it is now (the ``last`` ones of
    each partition when given); nothing when the topic does not exist."""
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


def read_state(
    config: dict[str, Any], namespace: str | None, tenants: Iterable[str | None] = (None,)
) -> dict[DeadLetterId, StateRecord]:
    """The current state of every handled dead letter whose state lives in the state topics
    of ``tenants`` (``None``: the shared one); an empty map before first use.

    A dedicated tenant may write its own state topic, so a record there counts only for a
    dead letter of that tenant's DLQ topics: it cannot mark another tenant's handled. The
    shared topic is the platform's (and kept the state of every tenant's dead letters
    before dedicated tenants had their own), so it counts for every dead letter, and a
    tenant's topic, read after it, has the last word on that tenant's."""
    state: dict[DeadLetterId, StateRecord] = {}
    for tenant in dict.fromkeys(tenants):
        topic = state_topic(namespace, tenant)
        for msg in read_topic(config, topic, None):
            _apply_state(state, msg, topic, namespace)
    return state


def _apply_state(
    state: dict[DeadLetterId, StateRecord], msg: Any, topic: str, namespace: str | None
) -> None:
    raw_key = msg.key()
    if raw_key is None:
        return
    try:
        dl_id = DeadLetterId.parse(raw_key.decode("utf-8", errors="replace"))
    except ValueError:
        return  # not written by us; one stray record must not hide every state
    owner = naming.state_owner(topic, namespace)
    if owner is not None and naming.state_owner(dl_id.topic, namespace) != owner:
        return  # a tenant's record about a dead letter that is not the tenant's
    value = msg.value()
    if value is None:
        state.pop(dl_id, None)
        return
    try:
        state[dl_id] = StateRecord.from_json(value)
    except ValueError:
        return  # the same: a stray record changes nothing


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
    for msg in read_topic(config, audit_topic(namespace), last):
        value = msg.value()
        if value is None:
            continue
        try:
            records.append(AuditRecord.from_json(value))
        except ValueError as exc:
            unreadable.append(f"offset {msg.offset()}: {exc}")
    return AuditTrail(sorted(records, key=lambda r: r.at, reverse=True), unreadable)
