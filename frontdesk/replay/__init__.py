"""Replay: read a time range of a queue or topics, filtered by tenant and event type, into
JSONL, Parquet, an Arrow table or a pandas DataFrame; and rewind a sandbox consumer group.

Analysts get the events as they were on Kafka, each decoded with the schema version that
wrote it and read as the current model; a replay never joins or moves a consumer group, and
terminates at the end offsets captured when it starts. See docs/replay.md::

    from frontdesk.replay import ReplayQuery, replay, write_parquet, parse_time

    query = ReplayQuery(
        topics=("pms.operational",),
        since=parse_time("2025-07-01"),
        until=parse_time("2025-07-02"),
        event_types=frozenset({"BookingCreated"}),
    )
    r = replay(query)
    write_parquet(r, "bookings.parquet")
    print(r.stats.emitted, dict(r.stats.undecodable))
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from frontdesk.connection import client_config
from frontdesk.replay.columns import SCHEMA
from frontdesk.replay.reader import Replay, ReplayQuery, ReplayStats
from frontdesk.replay.records import Envelope, RawRecord, ReplayRecord
from frontdesk.replay.rewind import (
    SANDBOX_PREFIX,
    OffsetChange,
    RewindRefused,
    is_sandbox,
    rewind_group,
)
from frontdesk.replay.sinks import RawWriter, to_arrow, to_dataframe, write_jsonl, write_parquet
from frontdesk.replay.source import PartitionRange, plan_ranges, queue_topics
from frontdesk.replay.timing import parse_time
from frontdesk.settings import Settings


def replay(
    query: ReplayQuery,
    *,
    config: dict[str, Any] | None = None,
    on_undecodable: Callable[[RawRecord], None] | None = None,
    on_progress: Callable[[ReplayStats], None] | None = None,
) -> Replay:
    """A `Replay` of ``query`` on the configured cluster (``FRONTDESK_*`` settings) unless
    ``config`` gives librdkafka client properties."""
    return Replay(
        query,
        config if config is not None else client_config(Settings()),
        on_undecodable=on_undecodable,
        on_progress=on_progress,
    )


__all__ = [
    "SANDBOX_PREFIX",
    "SCHEMA",
    "Envelope",
    "OffsetChange",
    "PartitionRange",
    "RawRecord",
    "RawWriter",
    "Replay",
    "ReplayQuery",
    "ReplayRecord",
    "ReplayStats",
    "RewindRefused",
    "is_sandbox",
    "parse_time",
    "plan_ranges",
    "queue_topics",
    "replay",
    "rewind_group",
    "to_arrow",
    "to_dataframe",
    "write_jsonl",
    "write_parquet",
]
