"""Test helpers for a real broker: the cluster handle, unique names, produce and drain."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from confluent_kafka import (
    Consumer,
    ConsumerGroupTopicPartitions,
    KafkaError,
    KafkaException,
    Message,
    Producer,
    TopicPartition,
)
from confluent_kafka.admin import AdminClient, NewTopic

from frontdesk.dlq.reader import read_ranges, reader_consumer
from frontdesk.replay.source import plan_ranges


def unique(prefix: str) -> str:
    """A topic/group name no other test (or earlier run on the same broker) uses."""
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


@dataclass
class Cluster:
    """The broker the tests talk to, with the settings every client needs."""

    config: dict[str, Any]
    origin: str
    _admin: AdminClient | None = field(default=None, repr=False)

    @property
    def bootstrap_servers(self) -> str:
        return str(self.config["bootstrap.servers"])

    @property
    def admin(self) -> AdminClient:
        if self._admin is None:
            self._admin = AdminClient(self.config)
        return self._admin

    def env(self) -> dict[str, str]:
        """Environment variables that point a frontdesk subprocess at this cluster."""
        env = {"FRONTDESK_BOOTSTRAP_SERVERS": self.bootstrap_servers}
        if "security.protocol" in self.config:
            env["FRONTDESK_SECURITY_PROTOCOL"] = self.config["security.protocol"]
        if "sasl.username" in self.config:
            env["FRONTDESK_SASL_USERNAME"] = self.config["sasl.username"]
            env["FRONTDESK_SASL_PASSWORD"] = self.config["sasl.password"]
        return env

    def create_topic(self, name: str, partitions: int = 1, **config: str) -> str:
        futures = self.admin.create_topics(
            [NewTopic(name, num_partitions=partitions, replication_factor=1, config=config)]
        )
        for future in futures.values():
            future.result(timeout=30)
        return name

    def producer(self, **extra: Any) -> Producer:
        return Producer(
            {**self.config, "partitioner": "murmur2_random", "enable.idempotence": True, **extra}
        )

    def consumer(self, group: str | None = None, **extra: Any) -> Consumer:
        return Consumer(
            {
                **self.config,
                "group.id": group or unique("test-reader"),
                "auto.offset.reset": "earliest",
                "enable.auto.commit": False,
                **extra,
            }
        )

    def produce(self, topic: str, records: Iterable[tuple[bytes | str | None, bytes]]) -> int:
        producer = self.producer()
        count = 0
        for key, value in records:
            producer.produce(topic, key=key, value=value)
            count += 1
        remaining = producer.flush(30)
        assert remaining == 0, f"{remaining} records not delivered"
        return count

    def drain(
        self, topic: str, expected: int | None = None, timeout: float = 30.0
    ) -> list[Message]:
        """Read ``topic`` from the beginning until ``expected`` records (or until idle)."""
        consumer = self.consumer()
        consumer.subscribe([topic])
        messages: list[Message] = []
        deadline = time.monotonic() + timeout
        idle_since = time.monotonic()
        try:
            while time.monotonic() < deadline:
                msg = consumer.poll(0.2)
                if msg is None:
                    if expected is None and messages and time.monotonic() - idle_since > 2:
                        break
                    continue
                if msg.error():
                    raise KafkaException(msg.error())
                messages.append(msg)
                idle_since = time.monotonic()
                if expected is not None and len(messages) >= expected:
                    break
        finally:
            consumer.close()
        return messages

    def read_all(self, topic: str) -> list[Message]:
        """Every committed record of ``topic`` up to its end now, without joining a group
        (an empty list when the topic does not exist)."""
        if topic not in self.admin.list_topics(timeout=30).topics:
            return []
        consumer = reader_consumer(self.config)
        try:
            return list(read_ranges(consumer, plan_ranges(consumer, [topic])))
        finally:
            consumer.close()

    def end_offsets(self, topic: str) -> dict[int, int]:
        consumer = self.consumer()
        try:
            meta = consumer.list_topics(topic, timeout=10).topics[topic]
            return {
                p: consumer.get_watermark_offsets(TopicPartition(topic, p), timeout=10)[1]
                for p in meta.partitions
            }
        finally:
            consumer.close()

    def committed(self, group: str, topic: str) -> dict[int, int]:
        consumer = self.consumer(group)
        try:
            meta = consumer.list_topics(topic, timeout=10).topics[topic]
            parts = [TopicPartition(topic, p) for p in meta.partitions]
            return {tp.partition: tp.offset for tp in consumer.committed(parts, timeout=10)}
        finally:
            consumer.close()

    def unstable_partitions(self, group: str, topic: str, partitions: int) -> int:
        """How many partitions of ``topic`` the group's offsets are unstable for: a
        transaction carrying offsets for them is still open (``UNSTABLE_OFFSET_COMMIT``,
        which a ``read_committed`` consumer waits on before it fetches anything)."""
        parts = [TopicPartition(topic, p) for p in range(partitions)]
        request = [ConsumerGroupTopicPartitions(group, parts)]
        futures = self.admin.list_consumer_group_offsets(request, require_stable=True)
        answer = next(iter(futures.values())).result(20)
        unstable = KafkaError.UNSTABLE_OFFSET_COMMIT
        return sum(
            1 for tp in answer.topic_partitions or [] if tp.error and tp.error.code() == unstable
        )
