"""Create topics on first use: the shared internal state topics the topology leaves to the
platform's workers and reviewers (`frontdesk.topology.state_specs`, `audit_spec`)."""

from __future__ import annotations

from collections.abc import Iterable

from confluent_kafka import KafkaError, KafkaException
from confluent_kafka.admin import AdminClient
from confluent_kafka.cimpl import NewTopic

from frontdesk.topology import TopicSpec

_TIMEOUT = 30.0


def create_missing(admin: AdminClient, specs: Iterable[TopicSpec]) -> None:
    """Create those of ``specs`` that are missing; a no-op when they exist.

    Two processes starting at once may both try: "already exists" is success.
    """
    wanted = list(specs)
    existing = admin.list_topics(timeout=_TIMEOUT).topics
    missing = [
        NewTopic(s.name, s.partitions, s.replication_factor, config=dict(s.config))
        for s in wanted
        if s.name not in existing
    ]
    if not missing:
        return
    for future in admin.create_topics(missing, operation_timeout=_TIMEOUT).values():
        try:
            future.result(timeout=_TIMEOUT)
        except KafkaException as exc:
            if exc.args[0].code() != KafkaError.TOPIC_ALREADY_EXISTS:
                raise


__all__ = ["create_missing"]
