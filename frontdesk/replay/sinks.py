"""Where a replay goes: JSONL, Parquet, an Arrow table or a pandas DataFrame.

Files are written as the replay streams: JSONL line by line, Parquet one row group per
``batch_rows`` records, so a replay of a month of traffic needs the memory of one batch.
Tables and data frames are in memory by nature; use them for ranges that fit.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

import pyarrow as pa
import pyarrow.parquet as pq

from frontdesk.replay.columns import SCHEMA, RowBuffer
from frontdesk.replay.records import RawRecord, ReplayRecord

if TYPE_CHECKING:
    import pandas

BATCH_ROWS = 10_000
"""Rows per Parquet row group: big enough for good compression and column statistics."""


def _dump(data: dict[str, Any]) -> str:
    return json.dumps(data, ensure_ascii=False, separators=(",", ":"))


def write_jsonl(records: Iterable[ReplayRecord], out: IO[str]) -> int:
    """One JSON object per line (see `ReplayRecord.to_dict`); returns the line count."""
    count = 0
    for record in records:
        out.write(_dump(record.to_dict()))
        out.write("\n")
        count += 1
    return count


def write_parquet(
    records: Iterable[ReplayRecord],
    path: Path | str,
    *,
    batch_rows: int = BATCH_ROWS,
    metadata: dict[str, str] | None = None,
) -> int:
    """Write the `SCHEMA` table in row groups of ``batch_rows``; returns the row count.

    ``metadata`` lands in the file's key-value metadata, so a file can say which query
    produced it. An empty replay still writes a valid file with the schema and no rows.
    """
    if batch_rows < 1:
        raise ValueError("batch_rows must be at least 1")
    schema = SCHEMA.with_metadata(metadata) if metadata else SCHEMA
    buffer = RowBuffer()
    count = 0
    with pq.ParquetWriter(str(path), schema, compression="zstd") as writer:
        for record in records:
            buffer.append(record)
            count += 1
            if len(buffer) >= batch_rows:
                writer.write_batch(buffer.take())
        if len(buffer):
            writer.write_batch(buffer.take())
    return count


def to_arrow(records: Iterable[ReplayRecord], *, batch_rows: int = BATCH_ROWS) -> pa.Table:
    """All records as one Arrow table (columns as in `SCHEMA`)."""
    buffer = RowBuffer()
    batches: list[pa.RecordBatch] = []
    for record in records:
        buffer.append(record)
        if len(buffer) >= batch_rows:
            batches.append(buffer.take())
    if len(buffer):
        batches.append(buffer.take())
    return pa.Table.from_batches(batches, schema=SCHEMA)


def to_dataframe(records: Iterable[ReplayRecord]) -> pandas.DataFrame:
    """All records as a pandas DataFrame; needs the ``analysis`` extra (pandas)."""
    try:
        import pandas  # noqa: F401, PLC0415 - optional dependency, checked at call time
    except ImportError as exc:
        raise ImportError("to_dataframe needs pandas: pip install 'frontdesk[analysis]'") from exc
    frame: pandas.DataFrame = to_arrow(records).to_pandas()
    return frame


class RawWriter:
    """Writes undecodable records as JSONL (bytes in base64), for `Replay(on_undecodable=)`."""

    def __init__(self, out: IO[str]) -> None:
        self._out = out
        self.count = 0

    def __call__(self, record: RawRecord) -> None:
        self._out.write(_dump(record.to_dict()))
        self._out.write("\n")
        self.count += 1
