"""A replay returns exactly the events on the broker in its window, after its filters.

Contract: on a multi-partition topic filled at controlled timestamps, ``since`` is inclusive
and ``until`` exclusive on every partition; tenant and event-type filters keep exactly the
matching events, from headers when present and from the decoded event otherwise; an
undecodable record is counted and written raw, never crashes the replay; each row carries its
writer's schema version; JSONL and Parquet (in row groups) hold the same rows; the default
end is the high watermark captured at the start, so records produced meanwhile are not read.
"""

from __future__ import annotations

import io
import json
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from io import BytesIO

import pyarrow.parquet as pq
import pytest
from fastavro import schemaless_writer

from frontdesk import headers as hdr
from frontdesk.codec import encode
from frontdesk.contracts.registry import default_registry
from frontdesk.events import (
    BookingCreated,
    BookingStatus,
    Channel,
    Event,
    GuestCheckedIn,
    MessageChannel,
    NotificationRequested,
)
from frontdesk.replay import (
    RawWriter,
    Replay,
    ReplayQuery,
    to_dataframe,
    write_jsonl,
    write_parquet,
)
from tests.support.kafka import Cluster, unique

T0 = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=1)
TENANTS = ("acme", "globex", "initech")


@dataclass(frozen=True)
class Sent:
    """What the test put on the topic, to compute the expected rows independently."""

    event_id: str | None  # None for the undecodable record
    tenant: str | None
    event_type: str | None
    ts: datetime
    schema_version: int = 1


def _event(i: int) -> Event:
    tenant = TENANTS[i % 3]
    prop = f"p{i % 5}"
    when = T0 + timedelta(seconds=i)
    if i % 2:
        return GuestCheckedIn.new(
            tenant_id=tenant,
            property_id=prop,
            booking_id=f"B{i}",
            guest_id=f"G{i}",
            unit_id="101",
            checked_in_at=when,
        )
    return NotificationRequested.new(
        tenant_id=tenant,
        property_id=prop,
        notification_id=f"N{i}",
        recipient="ana@example.com",
        channel=MessageChannel.EMAIL,
        template_id="welcome",
    )


def _v1_booking(i: int) -> tuple[BookingCreated, bytes]:
    event = BookingCreated.new(
        tenant_id="acme",
        property_id=f"p{i % 5}",
        booking_id=f"B{i}",
        room_type_id="DBL",
        guest_id=f"G{i}",
        guest_name="Ana Silva",
        arrival=date(2025, 7, 1),
        departure=date(2025, 7, 4),
        adults=2,
        children=0,
        channel=Channel.DIRECT,
        status=BookingStatus.CONFIRMED,
        total_amount=Decimal("412.50"),
        currency="EUR",
    )
    v1 = default_registry().get("BookingCreated", 1)
    out = BytesIO()
    out.write(v1.header)
    schemaless_writer(out, v1.parsed, event.model_dump(exclude={"special_requests", "loyalty_id"}))
    return event, out.getvalue()


def _ms(ts: datetime) -> int:
    return int(ts.timestamp() * 1000)


@pytest.fixture(scope="module")
def filled(kafka: Cluster) -> tuple[str, list[Sent]]:
    """60 events over 60 seconds on 3 partitions, plus a v1 event, a header-less event and
    a poison record; every record's timestamp is distinct and known."""
    topic = kafka.create_topic(unique("replay-range"), partitions=3)
    producer = kafka.producer()
    sent: list[Sent] = []
    records: list[tuple[datetime, dict[str, object]]] = []
    for i in range(60):
        event = _event(i)
        ts = T0 + timedelta(seconds=i)
        no_headers = i == 31
        headers = (
            []
            if no_headers
            else [
                (hdr.TENANT, event.meta.tenant_id.encode()),
                (hdr.EVENT_TYPE, event.event_type.encode()),
                (hdr.EVENT_ID, str(event.meta.event_id).encode()),
            ]
        )
        records.append((ts, {"key": event.key, "value": encode(event), "headers": headers}))
        sent.append(Sent(str(event.meta.event_id), event.meta.tenant_id, event.event_type, ts))
    # a v1-written booking at +20.5s, and a poison record at +40.5s (no headers)
    booking, v1_bytes = _v1_booking(99)
    ts = T0 + timedelta(seconds=20.5)
    booking_headers = [(hdr.TENANT, b"acme"), (hdr.EVENT_TYPE, b"BookingCreated")]
    records.append((ts, {"key": booking.key, "value": v1_bytes, "headers": booking_headers}))
    sent.append(Sent(str(booking.meta.event_id), "acme", "BookingCreated", ts, schema_version=1))
    ts = T0 + timedelta(seconds=40.5)
    records.append((ts, {"key": b"acme/p1", "value": b"not avro"}))
    sent.append(Sent(None, None, None, ts))
    # In time order, as a live producer writes: Kafka resolves times to offsets assuming
    # timestamps do not go backwards within a partition.
    for ts, fields in sorted(records, key=lambda r: r[0]):
        producer.produce(topic, timestamp=_ms(ts), **fields)  # type: ignore[arg-type]
    assert producer.flush(30) == 0
    return topic, sent


def _run(kafka: Cluster, query: ReplayQuery, **kw: object) -> tuple[list[str], Replay]:
    replay = Replay(query, kafka.config, **kw)  # type: ignore[arg-type]
    ids = [str(r.event.meta.event_id) for r in replay]
    return ids, replay


def test_window_is_since_inclusive_until_exclusive(
    kafka: Cluster, filled: tuple[str, list[Sent]]
) -> None:
    topic, sent = filled
    since, until = T0 + timedelta(seconds=10), T0 + timedelta(seconds=45)
    ids, replay = _run(kafka, ReplayQuery((topic,), since=since, until=until))
    expected = [s for s in sent if since <= s.ts < until]
    assert sorted(ids) == sorted(s.event_id for s in expected if s.event_id)
    assert str(sent[10].event_id) in ids  # exactly at since: in
    assert str(sent[45].event_id) not in ids  # exactly at until: out
    assert replay.stats.read == len(expected)
    assert replay.stats.emitted == len(expected) - 1
    assert dict(replay.stats.undecodable) == {"bad_magic": 1}
    assert replay.stats.done == replay.stats.total


def test_whole_topic_by_default_and_filters(kafka: Cluster, filled: tuple[str, list[Sent]]) -> None:
    topic, sent = filled
    ids, replay = _run(kafka, ReplayQuery((topic,)))
    assert sorted(ids) == sorted(s.event_id for s in sent if s.event_id)
    assert replay.stats.total == len(sent)

    query = ReplayQuery(
        (topic,),
        tenants=frozenset({"acme", "initech"}),
        event_types=frozenset({"GuestCheckedIn", "BookingCreated"}),
        until=T0 + timedelta(seconds=50),
    )
    ids, replay = _run(kafka, query)
    expected = [
        s
        for s in sent
        if s.tenant in query.tenants
        and s.event_type in query.event_types
        and s.ts < T0 + timedelta(seconds=50)
    ]
    assert sorted(ids) == sorted(s.event_id for s in expected)
    # the header-less event 31 is globex's GuestCheckedIn: decoded to be filtered
    assert replay.stats.filtered_by_header < replay.stats.filtered
    assert dict(replay.stats.undecodable) == {"bad_magic": 1}  # no headers: must decode


def test_outputs_agree_and_carry_the_writer_version(
    kafka: Cluster, filled: tuple[str, list[Sent]], tmp_path: object
) -> None:
    topic, sent = filled
    query = ReplayQuery((topic,), since=T0 + timedelta(seconds=5))
    expected = sorted(s.event_id for s in sent if s.event_id and s.ts >= query.since)  # type: ignore[operator]

    out, raw = io.StringIO(), io.StringIO()
    raw_writer = RawWriter(raw)
    lines = write_jsonl(Replay(query, kafka.config, on_undecodable=raw_writer), out)
    rows = [json.loads(line) for line in out.getvalue().splitlines()]
    assert lines == len(rows) == len(expected)
    assert sorted(r["payload"]["meta"]["event_id"] for r in rows) == expected
    first = rows[0]
    assert set(first) == {
        "topic",
        "partition",
        "offset",
        "timestamp",
        "key",
        "headers",
        "event_type",
        "schema_version",
        "payload",
    }
    versions = {r["event_type"]: r["schema_version"] for r in rows}
    assert versions["BookingCreated"] == 1  # written by a v1 producer, read as the v2 model
    assert raw_writer.count == 1
    assert json.loads(raw.getvalue())["reason"] == "bad_magic"

    path = tmp_path / "replay.parquet"  # type: ignore[operator]
    count = write_parquet(Replay(query, kafka.config), path, batch_rows=7)
    table = pq.read_table(path)
    assert count == table.num_rows == len(expected)
    assert pq.ParquetFile(path).metadata.num_row_groups == -(-count // 7)
    assert sorted(table.column("event_id").to_pylist()) == expected
    row = next(r for r in table.to_pylist() if r["event_type"] == "BookingCreated")
    assert row["schema_version"] == 1
    assert json.loads(row["payload"])["total_amount"] == "412.50"
    assert row["timestamp"] == T0 + timedelta(seconds=20.5)

    frame = to_dataframe(Replay(query, kafka.config))
    assert len(frame) == len(expected)


def test_default_end_is_captured_at_start(kafka: Cluster) -> None:
    topic = kafka.create_topic(unique("replay-end"), partitions=2)
    events = [_event(i) for i in range(6)]
    kafka.produce(topic, [(e.key, encode(e)) for e in events[:4]])
    replay = Replay(ReplayQuery((topic,)), kafka.config)
    assert replay.plan()  # ends captured now
    kafka.produce(topic, [(e.key, encode(e)) for e in events[4:]])
    ids = [str(r.event.meta.event_id) for r in replay]
    assert sorted(ids) == sorted(str(e.meta.event_id) for e in events[:4])


def test_empty_window_and_missing_topic(kafka: Cluster, filled: tuple[str, list[Sent]]) -> None:
    topic, _ = filled
    later = datetime.now(UTC) + timedelta(minutes=5)
    ids, replay = _run(kafka, ReplayQuery((topic,), since=later))
    assert ids == []
    assert replay.stats.total == 0
    with pytest.raises(Exception, match="does not exist"):
        Replay(ReplayQuery((unique("no-such-topic"),)), kafka.config).plan()
