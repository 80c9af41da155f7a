"""The one tabular shape of replayed events, shared by Parquet files and data frames.

One table for every event type, rather than a table per type: a replay mixes types (a
booking's whole story is BookingCreated, GuestCheckedIn, PaymentCaptured...), and one table
keeps them in Kafka order and queryable together. The envelope and the ``EventMeta`` fields
are real columns (filter and group by them without parsing anything); the event itself is
``payload``, a JSON string of the whole event, which DuckDB, Spark and pandas all read
(``payload->>'$.total_amount'``, ``json_normalize``) and which stays valid when a schema
gains a field. ``headers`` is a JSON object string for the same reason.
"""

from __future__ import annotations

import json
from typing import Any

import pyarrow as pa

from frontdesk.replay.records import ReplayRecord

_TS = pa.timestamp("ms", tz="UTC")

SCHEMA = pa.schema(
    [
        pa.field("topic", pa.string(), nullable=False),
        pa.field("partition", pa.int32(), nullable=False),
        pa.field("offset", pa.int64(), nullable=False),
        pa.field("timestamp", _TS, nullable=False),
        pa.field("key", pa.string()),
        pa.field("event_type", pa.string(), nullable=False),
        pa.field("schema_version", pa.int32(), nullable=False),
        pa.field("event_id", pa.string(), nullable=False),
        pa.field("tenant_id", pa.string(), nullable=False),
        pa.field("property_id", pa.string(), nullable=False),
        pa.field("occurred_at", _TS, nullable=False),
        pa.field("source", pa.string(), nullable=False),
        pa.field("correlation_id", pa.string(), nullable=False),
        pa.field("causation_id", pa.string()),
        pa.field("entity_version", pa.int64()),
        pa.field("headers", pa.string(), nullable=False),
        pa.field("payload", pa.string(), nullable=False),
    ]
)
"""Column order and types of every replay table; documented in docs/replay.md."""


class RowBuffer:
    """Columns filled record by record and cut into Arrow batches of a bounded size."""

    def __init__(self) -> None:
        self._columns: dict[str, list[Any]] = {name: [] for name in SCHEMA.names}

    def __len__(self) -> int:
        return len(self._columns["offset"])

    def append(self, record: ReplayRecord) -> None:
        env, meta = record.envelope, record.event.meta
        c = self._columns
        c["topic"].append(env.topic)
        c["partition"].append(env.partition)
        c["offset"].append(env.offset)
        c["timestamp"].append(env.timestamp)
        c["key"].append(env.key)
        c["event_type"].append(record.event_type)
        c["schema_version"].append(record.schema_version)
        c["event_id"].append(str(meta.event_id))
        c["tenant_id"].append(meta.tenant_id)
        c["property_id"].append(meta.property_id)
        c["occurred_at"].append(meta.occurred_at)
        c["source"].append(meta.source)
        c["correlation_id"].append(meta.correlation_id)
        c["causation_id"].append(meta.causation_id)
        c["entity_version"].append(meta.entity_version)
        c["headers"].append(json.dumps(env.headers, ensure_ascii=False, sort_keys=True))
        c["payload"].append(json.dumps(record.payload(), ensure_ascii=False))

    def take(self) -> pa.RecordBatch:
        """The buffered rows as one batch; the buffer starts over empty."""
        batch = pa.RecordBatch.from_pydict(self._columns, schema=SCHEMA)
        for values in self._columns.values():
            values.clear()
        return batch
