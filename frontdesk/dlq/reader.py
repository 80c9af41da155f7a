"""Read DLQ topics: a bounded scan of offset ranges, or one record by its id.

Reads with ``assign`` and never joins or commits a consumer group, so reviewing a DLQ
leaves no trace on the cluster. The end of each partition is fixed when the scan starts
(the high watermark, or ``until``), which makes ``list`` terminate on a DLQ that is still
growing and makes its count comparable with the broker's offsets.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Iterator
from typing import Any

from confluent_kafka import Consumer, KafkaError, KafkaException, Message, TopicPartition

from frontdesk.dlq.ids import DeadLetterId
from frontdesk.dlq.model import DeadLetter
from frontdesk.dlq.query import DlqFilter
from frontdesk.replay.source import PartitionRange, plan_ranges
from frontdesk.replay.timing import from_millis

BATCH = 500
POLL_SECONDS = 0.1
"""``consume()`` waits this long unless it fills a batch: short, because a review reads
small DLQs to their end and a long wait would be added to every page load."""
_TIMEOUT = 30.0


class DlqError(RuntimeError):
    """A review request that cannot be carried out (missing topic, unknown id, bad target)."""


def reader_consumer(config: dict[str, Any], group: str | None = None) -> Consumer:
    """A consumer for reading by hand-assigned ranges. ``group`` is the group its id goes
    under (``<group>.reader-<uuid>``), so that a tenant's worker reads with the tenant's
    group ACL: the client still looks up the coordinator of its group id."""
    name = f"{group}.reader-" if group else "frontdesk-dlq-review-"
    return Consumer(
        {
            **config,
            # Required by the client but never joined: partitions are assigned by hand.
            "group.id": f"{name}{uuid.uuid4().hex}",
            "enable.auto.commit": False,
            # Ends a partition whose last offsets are transaction markers, not records.
            "enable.partition.eof": True,
            # The runtime dead-letters inside transactions; aborted copies are not dead letters.
            "isolation.level": "read_committed",
            "auto.offset.reset": "earliest",
        }
    )


def existing_topics(consumer: Consumer, topics: Iterable[str]) -> list[str]:
    """``topics`` that exist, in order; the rest are silently left out."""
    known = consumer.list_topics(timeout=_TIMEOUT).topics
    return [t for t in dict.fromkeys(topics) if t in known and known[t].error is None]


def to_dead_letter(msg: Message, namespace: str | None = None) -> DeadLetter:
    _, ts = msg.timestamp()
    return DeadLetter(
        id=DeadLetterId(msg.topic() or "", msg.partition() or 0, msg.offset() or 0),
        timestamp=from_millis(ts),
        key=msg.key(),
        value=msg.value(),
        headers=_pairs(msg.headers()),
        namespace=namespace,
    )


def _pairs(raw: Any) -> tuple[tuple[str, bytes | None], ...]:
    """A consumer hands headers over as a list of (name, bytes) pairs; keep them so."""
    items = raw.items() if isinstance(raw, dict) else (raw or ())
    return tuple((k, v.encode() if isinstance(v, str) else v) for k, v in items)


def scan(
    config: dict[str, Any],
    topics: Iterable[str],
    query: DlqFilter | None = None,
    *,
    skip_missing: bool = False,
    namespace: str | None = None,
) -> Iterator[DeadLetter]:
    """Every dead letter of ``topics`` that ``query`` matches, partition order kept.

    A missing topic is an error (a typo must not look like an empty DLQ) unless
    ``skip_missing``: the console's overview tolerates a dedicated tenant not yet applied.
    ``namespace`` is the topology's, so that each dead letter knows its topic's tenant.
    """
    query = query or DlqFilter()
    consumer = reader_consumer(config)
    try:
        wanted = list(topics)
        if query.ids:
            wanted = [t for t in wanted if t in {i.topic for i in query.ids}]
        if skip_missing:
            wanted = existing_topics(consumer, wanted)
        if not wanted:
            return
        ranges = plan_ranges(consumer, wanted, since=query.since, until=query.until)
        if query.ids:
            ranges = _narrow(ranges, query.ids)
        for msg in read_ranges(consumer, ranges):
            dead_letter = to_dead_letter(msg, namespace)
            if query.matches(dead_letter):
                yield dead_letter
    except KafkaException as exc:
        raise DlqError(str(exc.args[0] if exc.args else exc)) from exc
    finally:
        consumer.close()


def _narrow(ranges: list[PartitionRange], ids: frozenset[DeadLetterId]) -> list[PartitionRange]:
    """Shrink each range to the span holding the wanted offsets: fetching by id reads ~1."""
    out = []
    for r in ranges:
        offsets = [i.offset for i in ids if (i.topic, i.partition) == (r.topic, r.partition)]
        inside = [o for o in offsets if r.start <= o < r.end]
        if inside:
            out.append(PartitionRange(r.topic, r.partition, min(inside), max(inside) + 1))
    return out


def read_ranges(consumer: Consumer, ranges: list[PartitionRange]) -> Iterator[Message]:
    """The records of ``ranges`` (``[start, end)`` each), stopping every partition at its end."""
    todo = {(r.topic, r.partition): r for r in ranges if r.size > 0}
    if not todo:
        return
    consumer.assign([TopicPartition(t, p, r.start) for (t, p), r in todo.items()])
    while todo:
        for msg in consumer.consume(BATCH, POLL_SECONDS):
            error = msg.error()
            key = (msg.topic() or "", msg.partition() or 0)
            if error is not None:
                if error.code() == KafkaError._PARTITION_EOF:
                    _finish(consumer, todo, key)
                    continue
                if error.fatal() or not error.retriable():
                    raise KafkaException(error)
                continue
            r = todo.get(key)
            offset = msg.offset() or 0
            if r is None:
                continue
            if offset < r.end:
                yield msg
            if offset + 1 >= r.end:
                _finish(consumer, todo, key)


def _finish(
    consumer: Consumer, todo: dict[tuple[str, int], PartitionRange], key: tuple[str, int]
) -> None:
    if todo.pop(key, None) is not None:
        consumer.pause([TopicPartition(*key)])
