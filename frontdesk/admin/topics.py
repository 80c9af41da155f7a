"""Plan and apply topic changes: create, add partitions, alter configs, and (opt-in) prune.

A plan is computed from what the cluster reports, so applying it twice is a no-op the
second time. Nothing is deleted or shrunk unless ``prune`` is asked for; partitions can
never shrink in Kafka, so a smaller declared count is reported as a conflict instead.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from confluent_kafka import KafkaException
from confluent_kafka.admin import AdminClient
from confluent_kafka.admin._config import AlterConfigOpType, ConfigEntry, ConfigResource
from confluent_kafka.cimpl import NewPartitions, NewTopic

from frontdesk import naming
from frontdesk.admin.waiting import wait_until
from frontdesk.topology import TopicSpec, Topology

_TIMEOUT = 30.0


@dataclass(frozen=True, slots=True)
class CreateTopic:
    spec: TopicSpec

    def describe(self) -> str:
        return f"create {self.spec.name} (partitions={self.spec.partitions})"


@dataclass(frozen=True, slots=True)
class AddPartitions:
    topic: str
    current: int
    wanted: int

    def describe(self) -> str:
        return f"partitions {self.topic}: {self.current} -> {self.wanted}"


@dataclass(frozen=True, slots=True)
class AlterConfig:
    topic: str
    key: str
    current: str | None
    wanted: str

    def describe(self) -> str:
        return f"config {self.topic}: {self.key} {self.current} -> {self.wanted}"


@dataclass(frozen=True, slots=True)
class DeleteTopic:
    topic: str

    def describe(self) -> str:
        return f"delete {self.topic} (not in the topology)"


Change = CreateTopic | AddPartitions | AlterConfig | DeleteTopic


@dataclass(slots=True)
class TopicPlan:
    changes: list[Change] = field(default_factory=list)
    conflicts: list[str] = field(default_factory=list)
    """Differences apply cannot fix (e.g. fewer partitions declared than exist)."""

    @property
    def empty(self) -> bool:
        return not self.changes


def _describe_configs(admin: AdminClient, topics: list[str]) -> dict[str, dict[str, str]]:
    if not topics:
        return {}
    futures = admin.describe_configs([ConfigResource("TOPIC", t) for t in topics])
    out: dict[str, dict[str, str]] = {}
    for resource, future in futures.items():
        entries: dict[str, ConfigEntry] = future.result(timeout=_TIMEOUT)
        out[resource.name] = {k: e.value for k, e in entries.items() if e.value is not None}
    return out


def plan_topics(admin: AdminClient, topology: Topology, *, prune: bool = False) -> TopicPlan:
    """What must change for the cluster to have exactly the topology's topics."""
    metadata = admin.list_topics(timeout=_TIMEOUT)
    existing = {name: len(t.partitions) for name, t in metadata.topics.items()}
    wanted = topology.topics()
    plan = TopicPlan()
    present = [s for s in wanted if s.name in existing]
    configs = _describe_configs(admin, [s.name for s in present])
    for spec in wanted:
        if spec.name not in existing:
            plan.changes.append(CreateTopic(spec))
            continue
        have = existing[spec.name]
        if spec.partitions > have:
            plan.changes.append(AddPartitions(spec.name, have, spec.partitions))
        elif spec.partitions < have:
            plan.conflicts.append(
                f"{spec.name} has {have} partitions, the topology says {spec.partitions}: "
                "Kafka cannot shrink a topic (recreate it by hand if you mean it)"
            )
        current = configs.get(spec.name, {})
        for key, value in sorted(spec.config.items()):
            if current.get(key) != value:
                plan.changes.append(AlterConfig(spec.name, key, current.get(key), value))
    if prune:
        declared = {s.name for s in wanted}
        for name in sorted(existing):
            if name not in declared and naming.parse_topic(name, topology.namespace) is not None:
                plan.changes.append(DeleteTopic(name))
    return plan


def _wait(futures: dict[Any, Any]) -> None:
    for future in futures.values():
        future.result(timeout=_TIMEOUT)


def _await_metadata(admin: AdminClient, wanted: dict[str, int]) -> None:
    """Return once the broker's metadata shows the new topics and partitions.

    The controller acknowledges before every broker serves the change; without this wait a
    producer started right after ``apply`` can still be told the topic does not exist.
    """

    def missing() -> str | None:
        topics = admin.list_topics(timeout=_TIMEOUT).topics
        lagging = [
            name
            for name, partitions in wanted.items()
            if name not in topics or len(topics[name].partitions) < partitions
        ]
        return f"metadata still lacks {', '.join(sorted(lagging)[:5])}" if lagging else None

    wait_until(missing, timeout=_TIMEOUT)


def _new_topics(plan: TopicPlan) -> list[NewTopic]:
    return [
        NewTopic(
            c.spec.name,
            num_partitions=c.spec.partitions,
            replication_factor=c.spec.replication_factor,
            config=c.spec.config,
        )
        for c in plan.changes
        if isinstance(c, CreateTopic)
    ]


def _new_partitions(plan: TopicPlan) -> list[NewPartitions]:
    return [NewPartitions(c.topic, c.wanted) for c in plan.changes if isinstance(c, AddPartitions)]


def _config_alterations(plan: TopicPlan) -> list[ConfigResource]:
    alters: dict[str, list[AlterConfig]] = {}
    for change in plan.changes:
        if isinstance(change, AlterConfig):
            alters.setdefault(change.topic, []).append(change)
    return [
        ConfigResource(
            "TOPIC",
            topic,
            incremental_configs=[
                ConfigEntry(c.key, c.wanted, incremental_operation=AlterConfigOpType.SET)
                for c in changes
            ],
        )
        for topic, changes in alters.items()
    ]


def _refusals(futures: dict[Any, Any], verb: str) -> list[str]:
    """One line per request the broker refused; the others succeeded (or would)."""
    problems = []
    for key, future in futures.items():
        try:
            future.result(timeout=_TIMEOUT)
        except KafkaException as exc:
            error = exc.args[0] if exc.args else exc
            reason = error.str() if hasattr(error, "str") else str(error)
            problems.append(f"{verb} {getattr(key, 'name', key)}: {reason}")
    return problems


def validate_topics(admin: AdminClient, plan: TopicPlan) -> list[str]:
    """Every problem the broker would raise applying ``plan``, found without changing anything.

    Creations, partition increases and config changes go to the broker with
    ``validate_only``: it checks names, counts and every config value (an unknown key, a
    value of the wrong type, a retention past what a long holds) exactly as for real.
    """
    problems: list[str] = []
    new = _new_topics(plan)
    if new:
        created = admin.create_topics(new, request_timeout=_TIMEOUT, validate_only=True)
        problems += _refusals(created, "create")
    partitions = _new_partitions(plan)
    if partitions:
        grown = admin.create_partitions(partitions, validate_only=True)
        problems += _refusals(grown, "partitions")
    resources = _config_alterations(plan)
    if resources:
        altered = admin.incremental_alter_configs(resources, validate_only=True)
        problems += _refusals(altered, "config")
    return problems


def apply_topics(admin: AdminClient, plan: TopicPlan) -> None:
    """Carry out ``plan``; each kind of change is one batched admin request.

    Call ``validate_topics`` first (``frontdesk topics apply`` does, with the ACLs and
    quotas): this applies in order and stops at the first refusal.
    """
    creates = [c for c in plan.changes if isinstance(c, CreateTopic)]
    if creates:
        try:
            _wait(admin.create_topics(_new_topics(plan), request_timeout=_TIMEOUT))
        except KafkaException as exc:
            if "TOPIC_ALREADY_EXISTS" not in str(exc):  # a concurrent apply got there first
                raise
        _await_metadata(admin, {c.spec.name: c.spec.partitions for c in creates})
    adds = [c for c in plan.changes if isinstance(c, AddPartitions)]
    if adds:
        _wait(admin.create_partitions(_new_partitions(plan)))
        _await_metadata(admin, {c.topic: c.wanted for c in adds})
    resources = _config_alterations(plan)
    if resources:
        _wait(admin.incremental_alter_configs(resources))
    deletes = [c.topic for c in plan.changes if isinstance(c, DeleteTopic)]
    if deletes:
        _wait(admin.delete_topics(deletes, operation_timeout=_TIMEOUT))
