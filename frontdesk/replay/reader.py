"""The replay loop: read planned offset ranges, filter, decode, and never crash on bad bytes.

Reads with ``assign`` (no group join, no commits): a replay must not disturb any consumer
group, nor leave one behind. Records whose headers already say they are of another tenant or
event type are skipped *without decoding*; only records without those headers are decoded to
decide. Undecodable records are counted by reason and handed to ``on_undecodable`` so a
replay over a topic with a poison record still finishes and says what it skipped.

Memory is bounded by one fetch batch: records are yielded one at a time and nothing is kept.
"""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from confluent_kafka import Consumer, KafkaError, KafkaException, Message, TopicPartition

from frontdesk import headers as hdr
from frontdesk.codec import Codec, default_codec
from frontdesk.errors import DecodeError
from frontdesk.events import EVENT_TYPES
from frontdesk.naming import validate_tenant_id
from frontdesk.replay.records import Envelope, RawRecord, ReplayRecord
from frontdesk.replay.source import PartitionRange, plan_ranges
from frontdesk.replay.timing import from_millis

BATCH = 500
"""Records per ``consume()`` call: large enough to amortise the call, small enough to stay
within a few megabytes."""


@dataclass(frozen=True, slots=True)
class ReplayQuery:
    """Which records a replay reads: topics, a time window and header-level filters."""

    topics: tuple[str, ...]
    since: datetime | None = None
    """Inclusive: the first record at or after this time, per partition."""
    until: datetime | None = None
    """Exclusive; when None, the end offsets captured when the replay starts."""
    tenants: frozenset[str] = frozenset()
    """Only these tenants; empty means all."""
    event_types: frozenset[str] = frozenset()
    """Only these event types; empty means all."""

    def __post_init__(self) -> None:
        if not self.topics:
            raise ValueError("a replay needs at least one topic (or a queue)")
        if self.since and self.until and self.until <= self.since:
            raise ValueError("until must be after since")
        unknown = sorted(self.event_types - EVENT_TYPES.keys())
        if unknown:
            raise ValueError(
                f"unknown event type(s): {', '.join(unknown)}; known: {', '.join(EVENT_TYPES)}"
            )
        for tenant in self.tenants:
            validate_tenant_id(tenant)


@dataclass
class ReplayStats:
    """Counts that let a replay prove it read everything it meant to."""

    total: int = 0
    """Offsets in the planned ranges: the progress bar's denominator."""
    done: int = 0
    """Offsets covered so far (gaps such as transaction markers included)."""
    read: int = 0
    """Records fetched from Kafka."""
    emitted: int = 0
    """Decoded records that passed the filters."""
    filtered: int = 0
    filtered_by_header: int = 0
    """Of ``filtered``: skipped from headers alone, without decoding."""
    undecodable: Counter[str] = field(default_factory=Counter)
    """Undecodable records by reason code."""

    @property
    def undecodable_total(self) -> int:
        return sum(self.undecodable.values())

    def to_dict(self) -> dict[str, Any]:
        return {
            "total_offsets": self.total,
            "read": self.read,
            "emitted": self.emitted,
            "filtered": self.filtered,
            "filtered_by_header": self.filtered_by_header,
            "undecodable": dict(self.undecodable),
        }


class Replay:
    """An iterable of `ReplayRecord`s for a `ReplayQuery`; iterate once.

    ``stats`` fills in as you iterate; ``plan()`` resolves the ranges (iteration calls it
    if you did not), so a caller can show the expected total before reading.
    """

    def __init__(
        self,
        query: ReplayQuery,
        config: dict[str, Any],
        *,
        codec: Codec | None = None,
        on_undecodable: Callable[[RawRecord], None] | None = None,
        on_progress: Callable[[ReplayStats], None] | None = None,
        poll_timeout: float = 1.0,
    ) -> None:
        self.query = query
        self.stats = ReplayStats()
        self._codec = codec or default_codec()
        self._on_undecodable = on_undecodable
        self._on_progress = on_progress
        self._poll_timeout = poll_timeout
        self._consumer = Consumer(
            {
                **config,
                # Required by the client, never joined: we assign partitions ourselves.
                "group.id": f"frontdesk-replay-{uuid.uuid4().hex}",
                "enable.auto.commit": False,
                # Tells us a partition is exhausted even when its last offsets are
                # transaction markers, which no message ever reports.
                "enable.partition.eof": True,
                # Aborted transactions are not events (a worker's failed retry hand-off).
                "isolation.level": "read_committed",
                # If retention deletes the planned start meanwhile, read what is left.
                "auto.offset.reset": "earliest",
            }
        )
        self._ranges: list[PartitionRange] | None = None
        self._started = False

    def plan(self) -> list[PartitionRange]:
        if self._ranges is None:
            self._ranges = plan_ranges(
                self._consumer, self.query.topics, since=self.query.since, until=self.query.until
            )
            self.stats.total = sum(r.size for r in self._ranges)
        return self._ranges

    def __iter__(self) -> Iterator[ReplayRecord]:
        if self._started:
            raise RuntimeError("a Replay can be iterated once; make a new one")
        self._started = True
        try:
            yield from self._read(self.plan())
        finally:
            self._consumer.close()

    def close(self) -> None:
        """Release the consumer of a replay that was planned but never iterated."""
        if not self._started:
            self._started = True
            self._consumer.close()

    def _read(self, ranges: Sequence[PartitionRange]) -> Iterator[ReplayRecord]:
        todo = {(r.topic, r.partition): r for r in ranges if r.size > 0}
        position = {key: r.start for key, r in todo.items()}
        if not todo:
            return
        self._consumer.assign([TopicPartition(t, p, r.start) for (t, p), r in todo.items()])

        def finish(key: tuple[str, int]) -> None:
            r = todo.pop(key)
            self.stats.done += r.end - position[key]
            self._consumer.pause([TopicPartition(*key)])

        while todo:
            for msg in self._consumer.consume(BATCH, self._poll_timeout):
                error = msg.error()
                key = (msg.topic() or "", msg.partition() or 0)
                if error is not None:
                    if error.code() == KafkaError._PARTITION_EOF:
                        if key in todo:
                            finish(key)
                        continue
                    if error.fatal() or not error.retriable():
                        raise KafkaException(error)
                    continue
                r = todo.get(key)
                offset = msg.offset() or 0
                if r is None or offset >= r.end:
                    if r is not None:
                        finish(key)
                    continue
                self.stats.done += offset + 1 - position[key]
                position[key] = offset + 1
                self.stats.read += 1
                record = self._accept(msg)
                if record is not None:
                    self.stats.emitted += 1
                    yield record
                if offset + 1 >= r.end:
                    finish(key)
            if self._on_progress is not None:
                self._on_progress(self.stats)

    def _accept(self, msg: Message) -> ReplayRecord | None:
        """The decoded record if it passes the filters; None when filtered or undecodable."""
        tenants, types = self.query.tenants, self.query.event_types
        raw_headers = _headers(msg)
        header_tenant = hdr.get(raw_headers, hdr.TENANT)
        header_type = hdr.get(raw_headers, hdr.EVENT_TYPE)
        if (tenants and header_tenant is not None and header_tenant not in tenants) or (
            types and header_type is not None and header_type not in types
        ):
            self.stats.filtered += 1
            self.stats.filtered_by_header += 1
            return None
        envelope = _envelope(msg, raw_headers)
        value = msg.value() or b""
        try:
            version = self._codec.writer_of(value).version
            event = self._codec.decode(value)
        except DecodeError as exc:
            self.stats.undecodable[exc.reason] += 1
            if self._on_undecodable is not None:
                self._on_undecodable(RawRecord(envelope, value, exc.reason, str(exc)))
            return None
        if (tenants and event.meta.tenant_id not in tenants) or (
            types and event.event_type not in types
        ):
            self.stats.filtered += 1
            return None
        return ReplayRecord(envelope, event, version)


def _headers(msg: Message) -> list[tuple[str, bytes | None]]:
    """Headers as (name, bytes) pairs; the client may hand back text values or a mapping."""
    raw = msg.headers() or []
    pairs = raw.items() if isinstance(raw, dict) else raw
    return [(k, v.encode() if isinstance(v, str) else v) for k, v in pairs]


def _envelope(msg: Message, raw_headers: Iterable[tuple[str, bytes | None]]) -> Envelope:
    key = msg.key()
    headers: dict[str, str] = {}
    for name, value in raw_headers:
        headers[name] = "" if value is None else value.decode("utf-8", errors="replace")
    return Envelope(
        topic=msg.topic() or "",
        partition=msg.partition() or 0,
        offset=msg.offset() or 0,
        timestamp=from_millis(msg.timestamp()[1]),
        key=None if key is None else key.decode("utf-8", errors="replace"),
        headers=headers,
    )
