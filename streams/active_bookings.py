"""Active bookings per property: a faust-streaming projection of the operational queue.

A table keyed by ``<tenant>/<property>`` maps each booking id to ``active`` or
``cancelled``; its changelog topic is the projection other services read. Run it with::

    python -m faust -A streams.active_bookings worker --without-web

Faust is used the way that keeps at-least-once honest (see docs/streams.md): the source is
read as raw bytes and decoded here, so an undecodable record is dead-lettered with its
reason instead of being skipped by faust's own decoder; agent concurrency stays 1; the
table has as many partitions as its source topic; updates are idempotent (setting a
booking's state again changes nothing), so an event redelivered after a crash is harmless.
"""

from __future__ import annotations

import time
from typing import Any

import faust

from frontdesk import headers
from frontdesk.codec import default_codec
from frontdesk.connection import client_config
from frontdesk.errors import DecodeError
from frontdesk.events import BookingCancelled, BookingCreated
from frontdesk.naming import dlq_topic
from frontdesk.queues import QueueType
from frontdesk.settings import Settings
from frontdesk.topology import load_topology

settings = Settings()
topology = load_topology(settings.topology)
SOURCE = topology.main_topic_for(QueueType.OPERATIONAL, "pooled-tenants")
PARTITIONS = topology.queues[QueueType.OPERATIONAL].partitions
_kafka = client_config(settings)
_ns = f"{topology.namespace}." if topology.namespace else ""

app = faust.App(
    f"{_ns}frontdesk.streams.active-bookings",
    # kafka:// (aiokafka) only: its default partitioner agrees with Java's murmur2.
    broker=f"kafka://{_kafka['bootstrap.servers']}",
    store="memory://",
    topic_partitions=PARTITIONS,
    topic_replication_factor=topology.cluster.replication_factor,
    # Tables must not be created with a different partition count than their source.
    topic_allow_declare=True,
    web_enabled=False,
)

source = app.topic(SOURCE, key_type=bytes, value_type=bytes, value_serializer="raw",
                   key_serializer="raw", partitions=PARTITIONS)  # fmt: skip
dead_letters = app.topic(dlq_topic(SOURCE), value_serializer="raw", key_serializer="raw")
bookings = app.Table("bookings-by-property", default=dict, partitions=PARTITIONS)
codec = default_codec()


def _dead_letter_headers(reason: str, message: str, event: Any) -> dict[str, bytes]:
    return {
        headers.REASON: reason.encode(),
        headers.ERROR_MESSAGE: message[:1000].encode(),
        headers.ORIGINAL_TOPIC: event.message.topic.encode(),
        headers.ORIGINAL_PARTITION: str(event.message.partition).encode(),
        headers.ORIGINAL_OFFSET: str(event.message.offset).encode(),
        headers.DEAD_LETTERED_AT: str(int(time.time() * 1000)).encode(),
        headers.WORKER_ID: b"streams.active-bookings",
    }


@app.agent(source, concurrency=1)
async def project(stream: Any) -> None:
    async for record in stream.events():
        try:
            event = codec.decode(record.value)
        except DecodeError as exc:
            await dead_letters.send(
                key=record.key,
                value=exc.raw,
                headers=_dead_letter_headers(exc.reason, str(exc), record),
            )
            continue
        if isinstance(event, BookingCreated | BookingCancelled):
            state = "active" if isinstance(event, BookingCreated) else "cancelled"
            current = bookings[event.key]
            if current.get(event.booking_id) != state:
                # Tables detect changes by assignment, not by mutation of the value.
                bookings[event.key] = {**current, event.booking_id: state}


def active_count(value: dict[str, str]) -> int:
    """How many bookings a changelog value holds as active."""
    return sum(1 for state in value.values() if state == "active")
