"""What a replay reads: topics, and the offset range of each partition.

A replay is planned before it reads anything: the start offset of each partition comes from
``--since`` (via ``offsets_for_times``, inclusive), the end from ``--until`` (exclusive) or
else from the high watermark *as captured now*. Fixing the end up front is what makes a
replay of a busy topic terminate and makes its row count checkable against the broker.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from confluent_kafka import Consumer, KafkaError, KafkaException, TopicPartition

from frontdesk import naming
from frontdesk.queues import QueueType
from frontdesk.replay.timing import to_millis
from frontdesk.topology import Topology

OFFSET_NOT_FOUND = -1
"""``offsets_for_times`` answers -1 when no record is at or after the requested time."""


@dataclass(frozen=True, slots=True)
class PartitionRange:
    """Offsets ``[start, end)`` of one partition: what the replay reads there."""

    topic: str
    partition: int
    start: int
    end: int

    @property
    def size(self) -> int:
        """Offsets in the range; the record count, or more if some are transaction markers."""
        return max(0, self.end - self.start)


def queue_topics(
    topology: Topology,
    queue: QueueType | str,
    *,
    include_retry: bool = False,
    include_dlq: bool = False,
) -> list[str]:
    """A queue's pooled and dedicated main topics, and optionally their retry tiers and DLQs.

    Retry and DLQ topics hold copies of events already on a main topic, so including them
    counts an event once per hop; analysts usually want main topics only (the default).
    """
    queue = QueueType(queue)
    topics: list[str] = []
    for main in topology.main_topics(queue):
        topics.append(main)
        if include_retry:
            topics += [naming.retry_topic(main, d) for d in topology.retry_delays(queue)]
        if include_dlq:
            topics.append(naming.dlq_topic(main))
    return topics


def plan_ranges(
    consumer: Consumer,
    topics: Iterable[str],
    *,
    since: datetime | None = None,
    until: datetime | None = None,
    timeout: float = 30.0,
) -> list[PartitionRange]:
    """Resolve the time window to offsets on every partition of ``topics``.

    Missing topics are an error rather than an empty result: a typo must not look like
    "no events in that period".
    """
    partitions: list[TopicPartition] = []
    for topic in dict.fromkeys(topics):
        meta = consumer.list_topics(topic, timeout=timeout).topics.get(topic)
        if meta is None or meta.error is not None or not meta.partitions:
            raise KafkaException(f"topic {topic} does not exist")
        partitions += [TopicPartition(topic, p) for p in sorted(meta.partitions)]
    marks = {(tp.topic, tp.partition): watermarks(consumer, tp, timeout) for tp in partitions}
    starts = _offsets_at(consumer, partitions, since, timeout)
    ends = _offsets_at(consumer, partitions, until, timeout)
    ranges = []
    for tp in partitions:
        low, high = marks[(tp.topic, tp.partition)]
        end = ends.get((tp.topic, tp.partition), high)
        end = high if end == OFFSET_NOT_FOUND else min(end, high)
        start = starts.get((tp.topic, tp.partition), low)
        start = end if start == OFFSET_NOT_FOUND else max(start, low)
        ranges.append(PartitionRange(tp.topic, tp.partition, min(start, end), end))
    return ranges


_LEADER_MOVING = {KafkaError.NOT_LEADER_FOR_PARTITION, KafkaError.LEADER_NOT_AVAILABLE}


def watermarks(consumer: Consumer, tp: TopicPartition, timeout: float) -> tuple[int, int]:
    """(low, high) of one partition, asking again while the broker answers with a retriable
    error: a partition just created or just moved reports NOT_LEADER_FOR_PARTITION for a
    moment, and one such moment must not fail a whole review or replay."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            low, high = consumer.get_watermark_offsets(tp, timeout=timeout, cached=False)
            return low, high
        except KafkaException as exc:
            error = exc.args[0] if exc.args else None
            retriable = isinstance(error, KafkaError) and (
                error.retriable() or error.code() in _LEADER_MOVING
            )
            if not retriable or time.monotonic() > deadline:
                raise
            time.sleep(0.2)


def _offsets_at(
    consumer: Consumer,
    partitions: Sequence[TopicPartition],
    when: datetime | None,
    timeout: float,
) -> dict[tuple[str, int], int]:
    if when is None or not partitions:
        return {}
    ms = to_millis(when)
    query = [TopicPartition(tp.topic, tp.partition, ms) for tp in partitions]
    found = consumer.offsets_for_times(query, timeout=timeout)
    for tp in found:
        if tp.error is not None:
            raise KafkaException(tp.error)
    return {(tp.topic, tp.partition): tp.offset for tp in found}
