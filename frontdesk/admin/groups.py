"""Consumer groups as the group coordinator reports them, for tools that inspect or move
them (lag, rewind); a group the broker does not know reads as empty, not as an error."""

from __future__ import annotations

from confluent_kafka import ConsumerGroupTopicPartitions, KafkaError, KafkaException
from confluent_kafka.admin import (  # type: ignore[attr-defined]  # stubs lack __all__
    AdminClient,
    ConsumerGroupDescription,
)


def committed_offsets(admin: AdminClient, group: str, timeout: float) -> dict[tuple[str, int], int]:
    """(topic, partition) -> committed offset of ``group``; partitions never committed are left
    out, and an unknown group has none."""
    request = ConsumerGroupTopicPartitions(group)
    future = admin.list_consumer_group_offsets([request], request_timeout=timeout)[group]
    try:
        listing = future.result(timeout=timeout)
    except KafkaException as exc:
        if _group_not_found(exc):
            return {}
        raise
    return {
        (tp.topic, tp.partition): tp.offset
        for tp in listing.topic_partitions or []
        if tp.offset >= 0
    }


def describe_group(
    admin: AdminClient, group: str, timeout: float
) -> ConsumerGroupDescription | None:
    """The group's state and members; None when the broker does not know the group."""
    future = admin.describe_consumer_groups([group], request_timeout=timeout)[group]
    try:
        description: ConsumerGroupDescription = future.result(timeout=timeout)
    except KafkaException as exc:
        if _group_not_found(exc):
            return None
        raise
    return description


def _group_not_found(exc: KafkaException) -> bool:
    return bool(exc.args) and exc.args[0].code() == KafkaError.GROUP_ID_NOT_FOUND


__all__ = ["committed_offsets", "describe_group"]
