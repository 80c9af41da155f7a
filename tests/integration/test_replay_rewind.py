"""Rewinding a sandbox consumer group moves its committed offsets to a point in time.

Contract: the new offset of each partition is its first record at or after the time (its end
when there is none); a group that is not named as a sandbox is refused unless forced; a group
with a live member is always refused; a dry run changes nothing.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import pytest
from confluent_kafka import TopicPartition

from frontdesk.replay import RewindRefused, rewind_group
from tests.support.kafka import Cluster, unique

T0 = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=2)


def _fill(kafka: Cluster, topic: str) -> None:
    """10 records per partition of a 2-partition topic, one second apart."""
    producer = kafka.producer()
    for i in range(10):
        ts = int((T0 + timedelta(seconds=i)).timestamp() * 1000)
        for partition in (0, 1):
            producer.produce(topic, value=b"x", partition=partition, timestamp=ts)
    assert producer.flush(30) == 0


def _commit(kafka: Cluster, group: str, topic: str, offset: int) -> None:
    consumer = kafka.consumer(group)
    try:
        consumer.commit(
            offsets=[TopicPartition(topic, p, offset) for p in (0, 1)], asynchronous=False
        )
    finally:
        consumer.close()


def test_rewind_sandbox_group_to_a_time(kafka: Cluster) -> None:
    topic = kafka.create_topic(unique("rewind"), partitions=2)
    _fill(kafka, topic)
    group = unique("sandbox.analyst")
    _commit(kafka, group, topic, 10)

    changes = rewind_group(kafka.admin, group, T0 + timedelta(seconds=4), dry_run=True)
    assert {(c.partition, c.previous, c.new) for c in changes} == {(0, 10, 4), (1, 10, 4)}
    assert kafka.committed(group, topic) == {0: 10, 1: 10}

    rewind_group(kafka.admin, group, T0 + timedelta(seconds=4))
    assert kafka.committed(group, topic) == {0: 4, 1: 4}

    # no record at or after the time: to the end
    rewind_group(kafka.admin, group, datetime.now(UTC) + timedelta(minutes=1), [topic])
    assert kafka.committed(group, topic) == {0: 10, 1: 10}


def test_production_group_needs_force(kafka: Cluster) -> None:
    topic = kafka.create_topic(unique("rewind-prod"), partitions=2)
    _fill(kafka, topic)
    group = unique("billing-workers")
    _commit(kafka, group, topic, 10)
    with pytest.raises(RewindRefused, match="not a sandbox"):
        rewind_group(kafka.admin, group, T0)
    assert kafka.committed(group, topic) == {0: 10, 1: 10}
    rewind_group(kafka.admin, group, T0, force=True)
    assert kafka.committed(group, topic) == {0: 0, 1: 0}


def test_group_with_a_live_member_is_refused(kafka: Cluster) -> None:
    topic = kafka.create_topic(unique("rewind-live"), partitions=2)
    _fill(kafka, topic)
    group = f"team.sandbox.{unique('live')}"
    consumer = kafka.consumer(group)
    consumer.subscribe([topic])
    try:
        deadline = time.monotonic() + 30
        while not consumer.assignment() and time.monotonic() < deadline:
            consumer.poll(0.2)
        assert consumer.assignment()
        with pytest.raises(RewindRefused, match="active member"):
            rewind_group(kafka.admin, group, T0, [topic], force=True)
    finally:
        consumer.close()
