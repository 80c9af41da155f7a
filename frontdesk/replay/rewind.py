"""Rewind a sandbox consumer group to a point in time, so an analyst's app re-reads from there.

Moving a group's offsets is how production consumers lose or repeat work, so the guard rails
are deliberate: only groups named as sandboxes move without ``force``; a group with live
members never moves (Kafka would refuse too, but later and less clearly); and the new offsets
come from ``ListOffsets`` by timestamp, the same resolution a replay uses.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from confluent_kafka import (
    ConsumerGroupTopicPartitions,
    KafkaException,
    TopicPartition,
)
from confluent_kafka.admin import (  # type: ignore[attr-defined]  # stubs lack __all__
    AdminClient,
    OffsetSpec,
)

from frontdesk.admin.groups import committed_offsets, describe_group
from frontdesk.errors import FrontdeskError
from frontdesk.replay.timing import to_millis

SANDBOX_PREFIX = "sandbox."
"""Group ids starting with this (or containing ``.sandbox.``) may be rewound without force."""


class RewindRefused(FrontdeskError):
    """The group may not be rewound as asked; the message says why and what to do."""


@dataclass(frozen=True, slots=True)
class OffsetChange:
    """One partition's committed offset before and after a rewind."""

    topic: str
    partition: int
    previous: int | None
    """None when the group had no committed offset there."""
    new: int


def is_sandbox(group: str, prefix: str = SANDBOX_PREFIX) -> bool:
    """Whether ``group`` is named as a sandbox: ``<prefix>...`` or ``....<prefix>...``.

    A naming rule rather than a registry, so that it holds on any cluster with no state of
    our own, and production group names simply never match it.
    """
    infix = "." + prefix.strip(".") + "."
    return group.startswith(prefix) or infix in group


def rewind_group(
    admin: AdminClient,
    group: str,
    to: datetime,
    topics: Sequence[str] | None = None,
    *,
    force: bool = False,
    sandbox_prefix: str = SANDBOX_PREFIX,
    dry_run: bool = False,
    timeout: float = 30.0,
) -> list[OffsetChange]:
    """Set ``group``'s committed offsets on ``topics`` to the first record at or after ``to``.

    ``topics`` defaults to those the group has committed offsets on. Partitions with no
    record at or after ``to`` move to their end. With ``dry_run`` nothing changes.
    """
    if not force and not is_sandbox(group, sandbox_prefix):
        raise RewindRefused(
            f"group {group!r} is not a sandbox group (its id neither starts with "
            f"{sandbox_prefix!r} nor contains '.{sandbox_prefix.strip('.')}.'); "
            "rewinding it would make a production consumer re-process or skip events. "
            "Use a sandbox group, or pass force if you really mean it."
        )
    members = _active_members(admin, group, timeout)
    if members:
        raise RewindRefused(
            f"group {group!r} has {len(members)} active member(s) ({', '.join(members)}); "
            "stop its consumers first: offsets of a live group cannot be moved"
        )
    committed = committed_offsets(admin, group, timeout)
    wanted = list(dict.fromkeys(topics)) if topics else sorted({t for t, _ in committed})
    if not wanted:
        raise RewindRefused(
            f"group {group!r} has no committed offsets; name the topics (or queue) to rewind"
        )
    partitions = _partitions(admin, wanted, timeout)
    ms = to_millis(to)
    at_time = _list_offsets(admin, partitions, OffsetSpec.for_timestamp(ms), timeout)
    latest = _list_offsets(admin, partitions, OffsetSpec.latest(), timeout)  # type: ignore[no-untyped-call]
    changes = []
    for key in partitions:
        offset = at_time[key]
        changes.append(
            OffsetChange(key[0], key[1], committed.get(key), latest[key] if offset < 0 else offset)
        )
    if not dry_run:
        request = ConsumerGroupTopicPartitions(
            group, [TopicPartition(c.topic, c.partition, c.new) for c in changes]
        )
        result = admin.alter_consumer_group_offsets([request], request_timeout=timeout)
        for tp in result[group].result(timeout=timeout).topic_partitions:
            if tp.error is not None:
                raise KafkaException(tp.error)
    return changes


def _active_members(admin: AdminClient, group: str, timeout: float) -> list[str]:
    description = describe_group(admin, group, timeout)
    if description is None:
        return []
    return [m.client_id or m.member_id for m in description.members]


def _partitions(admin: AdminClient, topics: Sequence[str], timeout: float) -> list[tuple[str, int]]:
    out: list[tuple[str, int]] = []
    for topic in topics:
        meta = admin.list_topics(topic, timeout=timeout).topics.get(topic)
        if meta is None or meta.error is not None or not meta.partitions:
            raise KafkaException(f"topic {topic} does not exist")
        out += [(topic, p) for p in sorted(meta.partitions)]
    return out


def _list_offsets(
    admin: AdminClient, partitions: Sequence[tuple[str, int]], spec: OffsetSpec, timeout: float
) -> dict[tuple[str, int], int]:
    request = {TopicPartition(t, p): spec for t, p in partitions}
    futures = admin.list_offsets(request, request_timeout=timeout)
    return {
        (tp.topic, tp.partition): int(f.result(timeout=timeout).offset) for tp, f in futures.items()
    }
