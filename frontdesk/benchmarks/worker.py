"""Worker throughput: a no-op handler under the full runtime vs a raw confluent-kafka loop.

Both sides read the same pre-filled topic (6 partitions, thousands of keys) in the same
process, each with a fresh consumer group, and both count from their first record to the
last, so group joins are not measured. The baseline is the floor for any Python consumer of
our wire format: ``consume`` batches, decode each value with the codec, call the handler,
commit at the end. Ours adds everything the runtime promises: per-key scheduling, an
asyncio task per record, a span and metrics per record, the contiguous-offset tracker and
checkpoints through a Kafka transaction. Rounds alternate and the best of each side is
kept, so noise on a shared machine hurts both alike.
"""

from __future__ import annotations

import time
import uuid
from dataclasses import asdict, dataclass
from typing import Any

from confluent_kafka import Producer

from frontdesk.benchmarks._common import (
    bench_topology,
    cluster_config,
    create_queue_topics,
    fresh_consumer,
    worker_throughput,
)
from frontdesk.codec import default_codec
from frontdesk.events import BookingCreated, BookingStatus, Channel, Event
from frontdesk.queues import QueueType
from frontdesk.topology import Topology
from frontdesk.worker import WorkerConfig


@dataclass(frozen=True)
class WorkerBenchResult:
    events: int
    ours: float
    """Events per second through the worker runtime (no-op handler)."""
    baseline: float
    """Events per second through consume + decode + handler call in a raw loop."""
    ratio: float
    raw_consume: float
    """Events per second of consume alone (no decode), for reference."""
    rounds: int
    unit: str = "events/s"

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def sample_events(count: int, properties: int = 2000) -> list[Event]:
    from datetime import date  # noqa: PLC0415
    from decimal import Decimal  # noqa: PLC0415

    return [
        BookingCreated.new(
            tenant_id=f"t{i % 20}",
            property_id=f"p{i % properties}",
            booking_id=f"B-{i}",
            room_type_id="DBL",
            guest_id="G-1",
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
        for i in range(count)
    ]


def prefill(conf: dict[str, Any], topic: str, events: int, properties: int = 2000) -> None:
    codec = default_codec()
    distinct = sample_events(min(events, 5000), properties)
    encoded = [
        (e.key.encode(), codec.encode(e), e.meta.tenant_id.encode(), str(e.meta.event_id).encode())
        for e in distinct
    ]
    producer = Producer({**conf, "partitioner": "murmur2_random", "linger.ms": 20})
    for i in range(events):
        key, value, tenant, event_id = encoded[i % len(encoded)]
        while True:
            try:
                producer.produce(
                    topic,
                    key=key,
                    value=value,
                    headers=[
                        ("fd-tenant", tenant),
                        ("fd-event-type", b"BookingCreated"),
                        ("fd-event-id", event_id),
                    ],
                )
                break
            except BufferError:
                producer.poll(0.1)
        if i % 10_000 == 0:
            producer.poll(0)
    if producer.flush(60):
        raise RuntimeError("pre-fill not delivered")


def raw_loop(conf: dict[str, Any], topic: str, events: int, *, decode: bool) -> float:
    """Events/s of a plain consume loop from its first record to the last."""
    codec = default_codec()
    consumer = fresh_consumer(
        conf, "bench-raw", **{"partition.assignment.strategy": "cooperative-sticky"}
    )
    consumer.subscribe([topic])

    def handler(event: Event) -> None:
        return None

    seen = 0
    started = 0.0
    try:
        while seen < events:
            batch = consumer.consume(500, 0.5)
            if batch and not started:
                started = time.perf_counter()
            for msg in batch:
                if msg.error():
                    continue
                if decode:
                    handler(codec.decode(msg.value() or b""))
                seen += 1
        consumer.commit(asynchronous=False)
        elapsed = time.perf_counter() - started
    finally:
        consumer.close()
    return events / elapsed


def worker_run(conf: dict[str, Any], topology: Topology, events: int) -> float:
    """Events/s through the worker runtime with a no-op async handler."""
    return worker_throughput(conf, topology, events, WorkerConfig())  # as shipped


def run_worker_bench(events: int = 50_000, rounds: int = 2) -> WorkerBenchResult:
    conf = cluster_config()
    topology = bench_topology(f"bench-{uuid.uuid4().hex[:8]}")
    create_queue_topics(conf, topology, QueueType.OPERATIONAL)
    topic = f"{topology.namespace}.pms.operational"
    prefill(conf, topic, events)
    ours: list[float] = []
    baseline: list[float] = []
    raw: list[float] = []
    for _ in range(rounds):
        baseline.append(raw_loop(conf, topic, events, decode=True))
        ours.append(worker_run(conf, topology, events))
    raw.append(raw_loop(conf, topic, events, decode=False))
    best_ours, best_base = max(ours), max(baseline)
    return WorkerBenchResult(
        events=events,
        ours=best_ours,
        baseline=best_base,
        ratio=best_ours / best_base,
        raw_consume=max(raw),
        rounds=rounds,
    )
