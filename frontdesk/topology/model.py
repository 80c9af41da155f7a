"""The topology file's typed model, and the list of topics it implies.

Validated at load time so a mistake names its line and field before anything touches
Kafka. The file says *what* exists; ``frontdesk.admin`` makes the cluster match it.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field, replace
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import yaml
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from frontdesk import naming
from frontdesk.broker.config import ADMIN_USER
from frontdesk.queues import QueueType


def _storable_duration(value: str) -> str:
    naming.parse_duration_ms(value)  # e.g. longer than Kafka's 64-bit milliseconds
    return value


Duration = Annotated[str, Field(pattern=r"^\d+(ms|s|m|h|d)$"), AfterValidator(_storable_duration)]


MAX_FILE_BYTES = 1024 * 1024
"""A topology names queues and tenants: even thousands of tenants fit well under 1 MiB."""
MAX_ALIASES = 200
"""YAML aliases (``*name``) in one file: enough to share queue defaults, few enough that no
file can expand exponentially ("billion laughs")."""
MAX_NODES = 100_000
"""Values in the document once every alias is expanded."""
MAX_DEPTH = 32
"""Nesting depth of collections; the real file needs five."""

_PRINCIPAL_NAME_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,127}")
RESERVED_PRINCIPALS = frozenset({f"User:{ADMIN_USER}", "User:ANONYMOUS"})
"""The broker's super user and the unauthenticated principal: granting a tenant's ACLs to
either would hand the tenant's topics to every admin tool or to anyone at all."""


class TopologyError(ValueError):
    """The topology file is unreadable or invalid; the message names the file, line and field."""


class FieldProblem(ValueError):
    """A check across several fields that knows which one is at fault (``loc``), so that
    the error still names that field's line although the check runs on the whole model."""

    def __init__(self, loc: tuple[str | int, ...], message: str) -> None:
        super().__init__(message)
        self.loc = loc


def validate_principal(value: str) -> str:
    """One tenant's own principal: ``User:<name>``, no wildcard, not a reserved user."""
    kind, _, name = value.partition(":")
    if kind != "User" or not _PRINCIPAL_NAME_RE.fullmatch(name):
        raise ValueError(
            f"principal {value!r} must be 'User:<name>' with letters, digits, '.', '_' or '-' "
            "(no wildcard: a tenant's ACLs go to that tenant's user only)"
        )
    if value in RESERVED_PRINCIPALS:
        raise ValueError(f"principal {value!r} is reserved for the broker; give the tenant its own")
    return value


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ClusterSpec(_Strict):
    replication_factor: int = Field(default=1, ge=1)
    """1 only suits the single local broker; production files raise it to 3."""
    min_insync_replicas: int | None = Field(default=None, ge=1)
    """Replicas that must have a record before an ``acks=all`` send is acknowledged; a
    partition with fewer in sync refuses writes rather than risk losing them. Default: 2
    with three or more replicas (one node may be down), else 1."""
    namespace: str | None = None
    """Prefix for every topic name, so environments can share one cluster."""

    @field_validator("namespace")
    @classmethod
    def _valid_namespace(cls, value: str | None) -> str | None:
        return None if value is None else naming.validate_namespace(value)

    @model_validator(mode="after")
    def _isr_fits(self) -> ClusterSpec:
        if self.min_insync_replicas is not None and (
            self.min_insync_replicas > self.replication_factor
        ):
            raise ValueError(
                f"min_insync_replicas ({self.min_insync_replicas}) cannot exceed "
                f"replication_factor ({self.replication_factor}): no write would succeed"
            )
        return self

    def topic_config(self) -> dict[str, str]:
        """Durability settings every topic gets (``frontdesk topics apply`` sets them):
        the in-sync floor, and never electing an out-of-sync replica as leader (which
        would drop acknowledged records)."""
        isr = self.min_insync_replicas or (2 if self.replication_factor >= 3 else 1)
        return {"min.insync.replicas": str(isr), "unclean.leader.election.enable": "false"}


class RetrySpec(_Strict):
    tiers: list[Duration] = Field(default_factory=lambda: ["10s", "1m", "10m", "1h"])
    """Delays of the successive retry tiers; an event that fails the last goes to the DLQ."""
    retention: Duration = "7d"

    @field_validator("tiers")
    @classmethod
    def _increasing(cls, tiers: list[str]) -> list[str]:
        delays = [naming.parse_duration_ms(t) for t in tiers]
        if len(set(tiers)) != len(tiers):
            raise ValueError("retry tiers must be distinct")
        if delays != sorted(delays):
            raise ValueError("retry tiers must escalate: list them from shortest to longest")
        return tiers

    @model_validator(mode="after")
    def _retention_outlives_delays(self) -> RetrySpec:
        longest = max((naming.parse_duration_ms(t) for t in self.tiers), default=0)
        if naming.parse_duration_ms(self.retention) <= longest:
            raise ValueError(
                f"retention {self.retention} must be longer than the longest tier, or a "
                "waiting event would be deleted before it is due"
            )
        return self


class DlqSpec(_Strict):
    retention: Duration = "30d"
    partitions: int | None = Field(default=None, ge=1)


class QueueSpec(_Strict):
    partitions: int = Field(default=6, ge=1)
    retention: Duration = "7d"
    config: dict[str, str] = Field(default_factory=dict)
    """Extra topic configs for the main topic (e.g. ``min.insync.replicas``)."""
    retry: RetrySpec = Field(default_factory=RetrySpec)
    dlq: DlqSpec = Field(default_factory=DlqSpec)


class TenantMode(StrEnum):
    POOLED = "pooled"
    DEDICATED = "dedicated"


class QuotaSpec(_Strict):
    producer_byte_rate: int | None = Field(default=None, ge=1)
    consumer_byte_rate: int | None = Field(default=None, ge=1)
    request_percentage: float | None = Field(default=None, gt=0)


class TenantSpec(_Strict):
    id: str
    name: str | None = None
    mode: TenantMode = TenantMode.POOLED
    principal: str | None = None
    """Kafka principal (``User:<name>``) that gets the tenant's prefixed ACLs; dedicated only."""
    partitions: int | None = Field(default=None, ge=1)
    """Overrides every queue's partition count for this tenant's dedicated topics."""
    quotas: QuotaSpec | None = None

    @field_validator("id")
    @classmethod
    def _valid_id(cls, value: str) -> str:
        return naming.validate_tenant_id(value)

    @field_validator("principal")
    @classmethod
    def _valid_principal(cls, value: str | None) -> str | None:
        return None if value is None else validate_principal(value)

    @model_validator(mode="after")
    def _dedicated_only(self) -> TenantSpec:
        if self.mode is TenantMode.POOLED and (self.principal or self.partitions):
            raise ValueError("principal and partitions apply to dedicated tenants only")
        return self


@dataclass(frozen=True, slots=True)
class TopicSpec:
    """One topic the cluster must have."""

    name: str
    partitions: int
    replication_factor: int
    config: dict[str, str] = field(default_factory=dict)


BROKER_MAX_MESSAGE_BYTES = 1_048_588
"""Kafka's default ``max.message.bytes``: what a main topic takes unless its queue's config
says otherwise."""
HANDOFF_HEADROOM_BYTES = 262_144
"""How much larger than its main topic's records a hand-off topic (retry tiers, parked, DLQ,
and the fallback queue's main topic) takes: the runtime adds headers (history, error,
stack trace) to every record it forwards, and a record that fit its main topic must still
fit wherever the runtime moves it, or its checkpoint could never commit."""


def _max_bytes(config: dict[str, str]) -> int:
    raw = config.get("max.message.bytes")
    return int(raw) if raw is not None and raw.isdigit() else BROKER_MAX_MESSAGE_BYTES


def _ms(duration: str) -> str:
    return str(naming.parse_duration_ms(duration))


# -- the runtime's internal state topics -------------------------------------------------
# Held keys and DLQ review state are compacted topics of one partition. The pooled tenants
# share one copy per namespace, created on first use by the platform's workers and
# reviewers (as is the audit trail); each dedicated tenant has its own under its prefix,
# declared here so that `topics apply` creates it and the tenant's prefixed ACLs cover it.

HELD_CONFIG = {
    "cleanup.policy": "compact",
    # A dead-lettered key may stay held for weeks: compaction, not time, bounds the topic.
    "retention.ms": "-1",
    # Tombstones of released keys must outlive a new owner's read of the whole topic.
    "delete.retention.ms": str(86_400_000),
}
DLQ_STATE_CONFIG = {
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


def held_spec(
    namespace: str | None, tenant_id: str | None, replication_factor: int = 1
) -> TopicSpec:
    """The held-keys state topic of one owner (a dedicated tenant, or ``None`` for the
    pooled tenants' shared one)."""
    name = naming.held_topic(namespace, tenant_id)
    return TopicSpec(name, 1, replication_factor, dict(HELD_CONFIG))


def dlq_state_spec(
    namespace: str | None, tenant_id: str | None, replication_factor: int = 1
) -> TopicSpec:
    """The DLQ review state topic of one owner (as `held_spec`)."""
    name = naming.dlq_state_topic(namespace, tenant_id)
    return TopicSpec(name, 1, replication_factor, dict(DLQ_STATE_CONFIG))


def state_specs(
    namespace: str | None, tenant_id: str | None, replication_factor: int = 1
) -> list[TopicSpec]:
    """Both internal state topics of one owner."""
    return [
        held_spec(namespace, tenant_id, replication_factor),
        dlq_state_spec(namespace, tenant_id, replication_factor),
    ]


def audit_spec(namespace: str | None, replication_factor: int = 1) -> TopicSpec:
    return TopicSpec(naming.audit_topic(namespace), 1, replication_factor, dict(AUDIT_CONFIG))


class Topology(_Strict):
    cluster: ClusterSpec = Field(default_factory=ClusterSpec)
    queues: dict[QueueType, QueueSpec]
    tenants: list[TenantSpec] = Field(default_factory=list)

    @model_validator(mode="after")
    def _complete(self) -> Topology:
        missing = [q.value for q in QueueType if q not in self.queues]
        if missing:
            raise ValueError(f"every queue type must be declared; missing: {', '.join(missing)}")
        ids = [t.id for t in self.tenants]
        dupes = sorted({i for i in ids if ids.count(i) > 1})
        if dupes:
            raise ValueError(f"tenant ids must be unique; repeated: {', '.join(dupes)}")
        owners: dict[str, str] = {}
        for index, tenant in enumerate(self.tenants):
            if tenant.principal is None:
                continue
            owner = owners.setdefault(tenant.principal, tenant.id)
            if owner != tenant.id:
                raise FieldProblem(
                    ("tenants", index, "principal"),
                    f"principal {tenant.principal!r} is already tenant {owner!r}'s: one "
                    "principal per tenant, or each would reach the other's topics",
                )
        return self

    @functools.cached_property
    def _tenants_by_id(self) -> dict[str, TenantSpec]:
        return {t.id: t for t in self.tenants}

    def tenant(self, tenant_id: str) -> TenantSpec | None:
        return self._tenants_by_id.get(tenant_id)

    def is_dedicated(self, tenant_id: str) -> bool:
        spec = self.tenant(tenant_id)
        return spec is not None and spec.mode is TenantMode.DEDICATED

    def dedicated_tenants(self) -> list[TenantSpec]:
        return [t for t in self.tenants if t.mode is TenantMode.DEDICATED]

    def main_topic_for(self, queue: QueueType, tenant_id: str) -> str:
        """The topic an event of ``tenant_id`` on ``queue`` is produced to.

        Tenants the file does not name are pooled: a new small customer needs no deploy.
        """
        return naming.main_topic(
            queue, tenant_id if self.is_dedicated(tenant_id) else None, self.namespace
        )

    @property
    def namespace(self) -> str | None:
        return self.cluster.namespace

    def tenant_prefix(self, tenant_id: str) -> str:
        return naming.tenant_prefix(tenant_id, self.namespace)

    def main_topics(self, queue: QueueType) -> list[str]:
        """The pooled topic and every dedicated tenant's topic of ``queue``."""
        return [naming.main_topic(queue, None, self.namespace)] + [
            naming.main_topic(queue, t.id, self.namespace) for t in self.dedicated_tenants()
        ]

    def state_owners(self) -> list[str | None]:
        """Whose internal state topics exist: ``None`` (the pooled tenants' shared ones)
        and every dedicated tenant (under its prefix)."""
        return [None, *(t.id for t in self.dedicated_tenants())]

    @property
    def dedicated_ids(self) -> frozenset[str]:
        """The dedicated tenants' ids: those whose internal state topics exist (the
        ``known`` of `frontdesk.naming.state_owner`)."""
        return frozenset(t.id for t in self.dedicated_tenants())

    def retry_delays(self, queue: QueueType) -> list[str]:
        return list(self.queues[queue].retry.tiers)

    def topics(self) -> list[TopicSpec]:
        """Every topic the cluster must have, main topics first."""
        specs: list[TopicSpec] = []
        rf = self.cluster.replication_factor
        owners: list[TenantSpec | None] = [None, *self.dedicated_tenants()]
        # Every queue's events may be diverted to the fallback queue's main topic.
        largest_main = max(_max_bytes(q.config) for q in self.queues.values())
        for owner in owners:
            for queue in QueueType:
                q = self.queues[queue]
                partitions = (owner.partitions if owner else None) or q.partitions
                main = naming.main_topic(queue, owner.id if owner else None, self.namespace)
                main_config = {"retention.ms": _ms(q.retention), **q.config}
                if queue is QueueType.FALLBACK:
                    main_config.setdefault(
                        "max.message.bytes", str(largest_main + HANDOFF_HEADROOM_BYTES)
                    )
                handoff = str(_max_bytes(main_config) + HANDOFF_HEADROOM_BYTES)
                specs.append(TopicSpec(main, partitions, rf, main_config))
                for delay in q.retry.tiers:
                    specs.append(
                        TopicSpec(
                            naming.retry_topic(main, delay),
                            partitions,
                            rf,
                            {"retention.ms": _ms(q.retry.retention), "max.message.bytes": handoff},
                        )
                    )
                # Events parked behind a held key of an ordered type: same partitions as
                # the main topic (a key keeps its partition number) and kept as long as a
                # dead letter, since a key stays held until its dead letter is dealt with.
                specs.append(
                    TopicSpec(
                        naming.parked_topic(main),
                        partitions,
                        rf,
                        {"retention.ms": _ms(q.dlq.retention), "max.message.bytes": handoff},
                    )
                )
                specs.append(
                    TopicSpec(
                        naming.dlq_topic(main),
                        q.dlq.partitions or partitions,
                        rf,
                        {"retention.ms": _ms(q.dlq.retention), "max.message.bytes": handoff},
                    )
                )
            if owner is not None:
                # A dedicated tenant's held keys and DLQ state live under its prefix, so
                # its own worker needs no ACL beyond the tenant's.
                specs.extend(state_specs(self.namespace, owner.id, rf))
        specs.append(self.schemas_topic())
        durability = self.cluster.topic_config()
        return [replace(spec, config={**durability, **spec.config}) for spec in specs]

    def max_message_bytes(self) -> dict[str, int]:
        """Each declared topic's ``max.message.bytes`` (the broker's default where unset)."""
        return {spec.name: _max_bytes(spec.config) for spec in self.topics()}

    def schemas_topic(self) -> TopicSpec:
        """The published writer schemas (frontdesk.contracts.schemas_topic): one partition,
        compacted and never expired, since an event may be read years after it was written."""
        return TopicSpec(
            naming.schemas_topic(self.namespace),
            1,
            self.cluster.replication_factor,
            {"cleanup.policy": "compact", "retention.ms": "-1"},
        )


class _LimitedLoader(yaml.SafeLoader):
    """A safe YAML loader that refuses what could exhaust memory or the stack.

    Aliases are counted, an alias to an anchor still being composed (a recursive anchor)
    is refused, and so is nesting deeper than ``MAX_DEPTH``; the expanded size is checked
    after composing (``_expanded_size``), before anything is constructed.
    """

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self._aliases = 0
        self._depth = 0
        self._open_anchors: set[str] = set()

    def compose_node(self, parent: yaml.Node | None, index: int) -> yaml.Node | None:
        event = self.peek_event()  # type: ignore[no-untyped-call]
        line = event.start_mark.line + 1
        if isinstance(event, yaml.AliasEvent):
            self._aliases += 1
            if self._aliases > MAX_ALIASES:
                raise _LimitError(line, f"more than {MAX_ALIASES} aliases")
            if event.anchor in self._open_anchors:
                raise _LimitError(line, f"alias *{event.anchor} refers to itself (recursive)")
            return super().compose_node(parent, index)
        anchor = getattr(event, "anchor", None)
        self._depth += 1
        if self._depth > MAX_DEPTH:
            raise _LimitError(line, f"nested deeper than {MAX_DEPTH} levels")
        if anchor is not None:
            self._open_anchors.add(anchor)
        try:
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1
            if anchor is not None:
                self._open_anchors.discard(anchor)


class _LimitError(Exception):
    def __init__(self, line: int, problem: str) -> None:
        super().__init__(problem)
        self.line = line
        self.problem = problem


def _expanded_size(node: yaml.Node) -> None:
    """Count the values the document holds once aliases are expanded; stop past the limit.

    Shared (aliased) nodes are counted once per use, with their size memoised by identity,
    so the count costs time proportional to the file, not to the expansion.
    """
    sizes: dict[int, int] = {}

    def size(current: yaml.Node) -> int:
        known = sizes.get(id(current))
        if known is not None:
            return known
        total = 1
        if isinstance(current, yaml.MappingNode):
            children = [n for pair in current.value for n in pair]
        elif isinstance(current, yaml.SequenceNode):
            children = list(current.value)
        else:
            children = []
        for child in children:
            total += size(child)
            if total > MAX_NODES:
                raise _LimitError(
                    child.start_mark.line + 1,  # the value that tipped it over
                    f"expands to more than {MAX_NODES} values through aliases",
                )
        sizes[id(current)] = total
        return total

    size(node)


def _lines(node: yaml.Node, path: tuple[Any, ...], out: dict[tuple[Any, ...], int]) -> None:
    out[path] = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            key = key_node.value
            out[(*path, key)] = key_node.start_mark.line + 1
            _lines(value_node, (*path, key), out)
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            _lines(item, (*path, index), out)


def _line_of(loc: tuple[Any, ...], lines: dict[tuple[Any, ...], int]) -> int | None:
    for end in range(len(loc), -1, -1):
        key = tuple(loc[:end])
        if key in lines:
            return lines[key]
    return None


def _yaml_problem(exc: yaml.YAMLError) -> str:
    """One line: where and what, without PyYAML's multi-line excerpt of the file."""
    mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
    problem = getattr(exc, "problem", None) or getattr(exc, "context", None) or str(exc)
    at = f"line {mark.line + 1}, column {mark.column + 1}: " if mark is not None else ""
    return f"{at}not valid YAML: {' '.join(str(problem).split())}"


def _compose(text: str, source: str) -> tuple[yaml.Node | None, Any]:
    """The document's node tree and its data, within the limits, or a one-line error."""
    loader = _LimitedLoader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None, None
        _expanded_size(node)
        return node, loader.construct_document(node)
    except _LimitError as exc:
        raise TopologyError(f"{source}: line {exc.line}: refused: {exc.problem}") from None
    except yaml.YAMLError as exc:
        raise TopologyError(f"{source}: {_yaml_problem(exc)}") from None
    finally:
        loader.dispose()


def parse_topology(text: str, source: str = "<topology>") -> Topology:
    """Parse and validate a topology document; errors name the line and the field."""
    if len(text) > MAX_FILE_BYTES:
        raise TopologyError(
            f"{source}: refused: larger than {MAX_FILE_BYTES // 1024} KiB (a topology is small)"
        )
    node, data = _compose(text, source)
    if not isinstance(data, dict):
        raise TopologyError(f"{source}: expected a mapping with 'queues' and 'tenants'")
    lines: dict[tuple[Any, ...], int] = {}
    if node is not None:
        _lines(node, (), lines)
    try:
        return Topology.model_validate(data)
    except ValidationError as exc:
        problems = []
        for err in exc.errors():
            loc = tuple(err["loc"])
            cause = err.get("ctx", {}).get("error")
            if isinstance(cause, FieldProblem):
                loc = (*loc, *cause.loc)
            where = ".".join(str(p) for p in loc) or "(top level)"
            line = _line_of(loc, lines)
            at = f"line {line}, " if line else ""
            problems.append(f"{source}: {at}{where}: {err['msg']}")
        raise TopologyError("invalid topology\n" + "\n".join(problems)) from None


def load_topology(path: Path | str) -> Topology:
    """Read and parse a topology file: at most ``MAX_FILE_BYTES``, UTF-8."""
    path = Path(path)
    try:
        with path.open("rb") as handle:
            raw = handle.read(MAX_FILE_BYTES + 1)
    except OSError as exc:
        raise TopologyError(f"cannot read topology file {path}: {exc.strerror}") from exc
    if len(raw) > MAX_FILE_BYTES:
        raise TopologyError(
            f"{path}: refused: larger than {MAX_FILE_BYTES // 1024} KiB (a topology is small)"
        )
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        column = exc.start - (raw.rfind(b"\n", 0, exc.start) + 1) + 1
        raise TopologyError(
            f"{path}: line {line}, column {column}: not UTF-8 (byte 0x{raw[exc.start]:02x})"
        ) from None
    return parse_topology(text, str(path))
