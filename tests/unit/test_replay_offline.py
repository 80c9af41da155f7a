"""Replay pieces that need no broker: times, queries, the sandbox rule, the table shape."""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from frontdesk.events import GuestCheckedIn
from frontdesk.replay import (
    SCHEMA,
    Envelope,
    RawRecord,
    RawWriter,
    ReplayQuery,
    ReplayRecord,
    is_sandbox,
    parse_time,
    queue_topics,
    to_arrow,
    to_dataframe,
    write_jsonl,
    write_parquet,
)
from frontdesk.topology.model import parse_topology

NOW = datetime(2025, 7, 1, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2025-07-01", datetime(2025, 7, 1, tzinfo=UTC)),
        ("2025-07-01T14:00", datetime(2025, 7, 1, 14, tzinfo=UTC)),
        ("2025-07-01T14:00:00Z", datetime(2025, 7, 1, 14, tzinfo=UTC)),
        ("2025-07-01T14:00:00+02:00", datetime(2025, 7, 1, 12, tzinfo=UTC)),
        ("2h", NOW - timedelta(hours=2)),
        ("7d", NOW - timedelta(days=7)),
    ],
)
def test_parse_time(text: str, expected: datetime) -> None:
    assert parse_time(text, now=NOW) == expected


def test_parse_time_names_the_formats() -> None:
    with pytest.raises(ValueError, match="ISO-8601"):
        parse_time("yesterday")


def test_query_is_validated() -> None:
    with pytest.raises(ValueError, match="unknown event type"):
        ReplayQuery(("t",), event_types=frozenset({"BookingCreatd"}))
    with pytest.raises(ValueError, match="after since"):
        ReplayQuery(("t",), since=NOW, until=NOW)
    with pytest.raises(ValueError, match="invalid tenant"):
        ReplayQuery(("t",), tenants=frozenset({"Bad/Tenant"}))
    with pytest.raises(ValueError, match="at least one topic"):
        ReplayQuery(())


@pytest.mark.parametrize(
    ("group", "sandbox"),
    [
        ("sandbox.ana", True),
        ("analytics.sandbox.q3", True),
        ("billing-workers", False),
        ("sandboxed-prod", False),
        ("prod.notsandbox.x", False),
    ],
)
def test_sandbox_rule(group: str, sandbox: bool) -> None:
    assert is_sandbox(group) is sandbox


def test_custom_sandbox_prefix() -> None:
    assert is_sandbox("lab.ana", "lab.")
    assert not is_sandbox("sandbox.ana", "lab.")


def test_queue_topics_follow_the_topology() -> None:
    topo = parse_topology(
        """
cluster: {namespace: stage}
queues:
  operational: {retry: {tiers: [10s, 1m]}}
  automation: {}
  sync: {}
  fallback: {}
tenants:
  - {id: big, mode: dedicated}
  - {id: small}
"""
    )
    assert queue_topics(topo, "operational") == [
        "stage.pms.operational",
        "stage.tenant.big.operational",
    ]
    assert queue_topics(topo, "operational", include_retry=True, include_dlq=True) == [
        "stage.pms.operational",
        "stage.pms.operational.retry.10s",
        "stage.pms.operational.retry.1m",
        "stage.pms.operational.dlq",
        "stage.tenant.big.operational",
        "stage.tenant.big.operational.retry.10s",
        "stage.tenant.big.operational.retry.1m",
        "stage.tenant.big.operational.dlq",
    ]


def _record(i: int) -> ReplayRecord:
    event = GuestCheckedIn.new(
        tenant_id="acme",
        property_id="p1",
        booking_id=f"B{i}",
        guest_id="G1",
        unit_id="101",
        checked_in_at=NOW,
    )
    envelope = Envelope("pms.operational", 0, i, NOW, event.key, {"fd-tenant": "acme"})
    return ReplayRecord(envelope, event, 1)


def test_jsonl_line_shape() -> None:
    records = [_record(0), _record(1)]
    out = io.StringIO()
    assert write_jsonl(records, out) == 2
    first = json.loads(out.getvalue().splitlines()[0])
    assert first["timestamp"] == "2025-07-01T12:00:00.000+00:00"
    assert first["key"] == "acme/p1"
    assert first["payload"]["booking_id"] == "B0"
    # the payload is the whole event: it validates back into the same model
    assert GuestCheckedIn.model_validate(first["payload"]) == records[0].event


def test_parquet_row_groups_and_schema(tmp_path: Path) -> None:
    path = tmp_path / "x.parquet"
    records = (_record(i) for i in range(25))
    assert write_parquet(records, path, batch_rows=10, metadata={"frontdesk.replay": "{}"}) == 25
    file = pq.ParquetFile(path)
    assert file.metadata.num_row_groups == 3
    assert file.schema_arrow.remove_metadata() == SCHEMA
    assert file.schema_arrow.metadata[b"frontdesk.replay"] == b"{}"
    row = pq.read_table(path).slice(7, 1).to_pylist()[0]
    assert row["offset"] == 7
    assert row["tenant_id"] == "acme"
    assert json.loads(row["payload"])["booking_id"] == "B7"
    assert json.loads(row["headers"]) == {"fd-tenant": "acme"}


def test_empty_parquet_is_a_valid_file(tmp_path: Path) -> None:
    path = tmp_path / "empty.parquet"
    assert write_parquet([], path) == 0
    assert pq.read_table(path).num_rows == 0


def test_arrow_and_dataframe() -> None:
    assert to_arrow(_record(i) for i in range(3)).num_rows == 3
    frame = to_dataframe(_record(i) for i in range(3))
    assert list(frame.columns) == SCHEMA.names
    assert frame["offset"].tolist() == [0, 1, 2]


def test_raw_writer_keeps_the_bytes() -> None:
    out = io.StringIO()
    writer = RawWriter(out)
    envelope = Envelope("t", 0, 5, NOW, None, {})
    writer(RawRecord(envelope, b"\x00\xff", "bad_magic", "nope"))
    line = json.loads(out.getvalue())
    assert (line["offset"], line["reason"], line["value_base64"]) == (5, "bad_magic", "AP8=")
    assert writer.count == 1
