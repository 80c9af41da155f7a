"""Hanging group offsets: a checkpoint transaction the broker finished without its marker.

Seen with Kafka 4.4.0 (docs/reliability.md, Finding 7): a single broker SIGKILLed while a
checkpoint transaction is being committed (``PREPARE_COMMIT`` in its transaction log) loads
that transaction again on restart, before its own registration is current; when the
controller then fences the dead incarnation, the coordinator finds no leader for
``__consumer_offsets``, logs "these partitions are likely deleted already and hence can be
skipped", and completes the transaction without writing its marker there. The offsets it
carried stay pending for good: the group's offsets of those partitions answer
``UNSTABLE_OFFSET_COMMIT``, and their owner, a ``read_committed`` consumer, fetches nothing.

A worker asks for the group's committed offsets as its consumers do (``read_committed``,
which waits for pending offsets) with a consumer of its own that never joins the group;
the admin client's offset listing is not used here: with it, both workers of the
broker-restart scenario died of SIGSEGV once, as the coordinator came back (a librdkafka
fault on ``NOT_COORDINATOR`` answers is reported upstream).

Pending offsets belong to a producer id, and any end marker of that producer id for the
group settles them. So every worker of the group, on finding the
group's offsets pending for longer than a live transaction should last, runs a transaction
that only adds the group's offsets and *aborts* it (`TransactionalCommitter.abort_offsets`).
The abort marker drops the hanging offsets if the producer id is its own, and changes
nothing otherwise. Dropping them is safe either way: the group's offsets stay where they
were, so the events after them are handled again (at-least-once), and none is skipped. A
hanging transaction of a worker slot that no longer runs (a scale-in) cannot be settled
this way; the worker then says how an operator aborts it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from confluent_kafka import Consumer, KafkaError, KafkaException, TopicPartition


class OffsetsProbe:
    """Reads a group's committed offsets without joining it: once as its members read them
    (waiting for pending ones) and, when that times out, once as they stand."""

    def __init__(self, config: dict[str, Any], group: str, pattern: str, client_id: str):
        common = {**config, "group.id": group, "enable.auto.commit": False}
        self._stable = Consumer(
            {**common, "isolation.level": "read_committed", "client.id": f"{client_id}-probe"}
        )
        self._plain = Consumer(
            {**common, "isolation.level": "read_uncommitted", "client.id": f"{client_id}-probe"}
        )
        self._regex = re.compile(pattern)
        self.partitions: list[TopicPartition] = []

    def pending(self, timeout: float = 5.0) -> bool | None:
        """Whether some offset of the group stayed pending for all of ``timeout``;
        ``None`` when the broker could not tell (it is away, or the group coordinator
        is loading)."""
        try:
            topics = self._stable.list_topics(timeout=timeout).topics
        except KafkaException:
            return None
        self.partitions = [
            TopicPartition(name, p)
            for name, meta in sorted(topics.items())
            if self._regex.match(name)
            for p in sorted(meta.partitions)
        ]
        if not self.partitions:
            return False
        try:
            self._stable.committed(self.partitions, timeout=timeout)
            return False
        except KafkaException as exc:
            if exc.args[0].code() != KafkaError._TIMED_OUT:
                return None
        try:  # the coordinator answers: what kept the stable read waiting was pending offsets
            self._plain.committed(self.partitions, timeout=timeout)
        except KafkaException:
            return None
        return True

    def close(self) -> None:
        self._stable.close()
        self._plain.close()


@dataclass
class HangingWatch:
    """Tells a hanging transaction from a live one: the group's offsets count as hanging
    once they have been pending at every check for longer than ``threshold`` (a live
    transaction ends within ``transaction.timeout.ms``, or its coordinator aborts it)."""

    threshold: float
    since: float | None = None

    def observe(self, pending: bool | None, now: float) -> bool:
        """Record one check made at ``now`` (``None``: no answer, which changes nothing)."""
        if pending is None:
            return self.hanging(now)
        if not pending:
            self.since = None
        elif self.since is None:
            self.since = now
        return self.hanging(now)

    def hanging(self, now: float) -> bool:
        return self.since is not None and now - self.since >= self.threshold


def operator_hint(group: str) -> str:
    """What an operator runs when no worker of the group can settle the offsets."""
    return (
        f"offsets of group {group} are still pending after every worker aborted its own: "
        "the transaction belongs to a worker slot that no longer runs. Find it with "
        "`kafka-transactions.sh --bootstrap-server ... find-hanging --broker-id <id>` and end "
        "it with `kafka-transactions.sh ... abort --topic __consumer_offsets --partition <p> "
        "--start-offset <offset>`; the group resumes from its last committed offsets."
    )


__all__ = ["HangingWatch", "OffsetsProbe", "operator_hint"]
