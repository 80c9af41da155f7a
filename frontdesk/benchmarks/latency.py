"""End-to-end latency at a fixed rate: produce → worker handler, vs produce → raw consume.

A producer thread sends events at a steady rate, each stamped with its send time in a
header; the latency of one event is the moment its handler starts minus that stamp. The
baseline runs the same producer against a plain confluent-kafka consumer loop that reads
the stamp as soon as the record is returned. Same broker, same process, same rate, same
producer settings; the difference is what the runtime adds between fetch and handler
(scheduling, decode, span, bookkeeping), plus any effect of its checkpoint transactions.
"""

from __future__ import annotations

import asyncio
import threading
import time
import uuid
from dataclasses import asdict, dataclass
from typing import Any, cast

from confluent_kafka import Message, Producer

from frontdesk.benchmarks._common import (
    bench_topology,
    cluster_config,
    create_queue_topics,
    fresh_consumer,
)
from frontdesk.benchmarks.worker import sample_events
from frontdesk.codec import default_codec
from frontdesk.events import BookingCreated
from frontdesk.queues import QueueType
from frontdesk.topology import Topology
from frontdesk.worker import App, Context, Worker, WorkerConfig

SENT_AT = "bench-sent-ns"


@dataclass(frozen=True)
class LatencyBenchResult:
    rate: int
    seconds: float
    ours: float
    """p99 end-to-end latency through the worker, ms."""
    baseline: float
    """p99 end-to-end latency of a raw consume loop, ms."""
    ratio: float
    """ours / baseline at p99: lower is better, 1.0 means no added latency."""
    ours_p50: float
    baseline_p50: float
    events: int
    unit: str = "ms (p99)"

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def _sent_at(msg: Message) -> int:
    stamps = [v for k, v in cast(list[tuple[str, bytes]], msg.headers() or []) if k == SENT_AT]
    if stamps:
        return int(stamps[-1])
    raise ValueError("record without a send stamp")


def _produce_at_rate(conf: dict[str, Any], topic: str, rate: int, seconds: float) -> int:
    """Send ``rate`` events per second for ``seconds``; returns how many were sent."""
    codec = default_codec()
    events = sample_events(500, properties=500)
    encoded = [(e.key.encode(), codec.encode(e)) for e in events]
    producer = Producer({**conf, "partitioner": "murmur2_random", "linger.ms": 1})
    total = int(rate * seconds)
    start = time.perf_counter()
    for i in range(total):
        due = start + i / rate
        delay = due - time.perf_counter()
        if delay > 0:
            time.sleep(delay)
        key, value = encoded[i % len(encoded)]
        producer.produce(
            topic,
            key=key,
            value=value,
            headers=[("fd-event-type", b"BookingCreated"), (SENT_AT, str(time.time_ns()).encode())],
        )
        producer.poll(0)
    producer.flush(30)
    return total


def _raw(conf: dict[str, Any], topic: str, rate: int, seconds: float) -> list[float]:
    consumer = fresh_consumer(
        conf,
        "bench-lat-raw",
        **{"auto.offset.reset": "latest", "partition.assignment.strategy": "cooperative-sticky"},
    )
    consumer.subscribe([topic])
    while not consumer.assignment():
        consumer.poll(0.1)
    time.sleep(1.0)
    latencies: list[float] = []
    sender = threading.Thread(target=_produce_at_rate, args=(conf, topic, rate, seconds))
    sender.start()
    expected = int(rate * seconds)
    deadline = time.monotonic() + seconds + 30
    try:
        while len(latencies) < expected and time.monotonic() < deadline:
            msg = consumer.poll(0.1)  # returns as soon as a record arrives
            if msg is not None and msg.error() is None:
                latencies.append((time.time_ns() - _sent_at(msg)) / 1e6)
    finally:
        sender.join()
        consumer.close()
    return latencies


def _ours(conf: dict[str, Any], topology: Topology, rate: int, seconds: float) -> list[float]:
    topic = f"{topology.namespace}.pms.operational"
    app = App(f"bench-lat-{uuid.uuid4().hex[:8]}", queue="operational", topology=topology)
    latencies: list[float] = []
    expected = int(rate * seconds)
    done = asyncio.Event()

    @app.handler(BookingCreated)
    async def on_booking(event: BookingCreated, ctx: Context) -> None:
        for key, value in ctx.headers:
            if key == SENT_AT:
                latencies.append((time.time_ns() - int(value)) / 1e6)
        if len(latencies) >= expected:
            done.set()

    config = WorkerConfig(auto_offset_reset="latest")
    worker = Worker(app, topology=topology, config=config, client_config=conf)

    async def main() -> None:
        task = asyncio.create_task(worker.run())
        await worker.wait_assigned()
        await asyncio.sleep(1.0)
        sender = asyncio.create_task(
            asyncio.to_thread(_produce_at_rate, conf, topic, rate, seconds)
        )
        try:
            await asyncio.wait_for(done.wait(), seconds + 30)
        finally:
            await sender
            worker.stop()
            await task

    asyncio.run(main())
    return latencies


def run_latency_bench(rate: int = 1000, seconds: float = 10.0) -> LatencyBenchResult:
    conf = cluster_config()
    topology = bench_topology(f"bench-lat-{uuid.uuid4().hex[:8]}")
    create_queue_topics(conf, topology, QueueType.OPERATIONAL)
    topic = f"{topology.namespace}.pms.operational"
    baseline = _raw(conf, topic, rate, seconds)
    ours = _ours(conf, topology, rate, seconds)
    ours_p99, base_p99 = _percentile(ours, 99), _percentile(baseline, 99)
    return LatencyBenchResult(
        rate=rate,
        seconds=seconds,
        ours=ours_p99,
        baseline=base_p99,
        ratio=ours_p99 / base_p99,
        ours_p50=_percentile(ours, 50),
        baseline_p50=_percentile(baseline, 50),
        events=len(ours),
    )
