"""Key concurrency: an I/O-bound handler under the worker runtime vs one event at a time.

Real handlers wait on the network (an OTA, a messaging provider, a database): here a 5 ms
``asyncio.sleep``. Both sides read the same pre-filled 6-partition topic (2000 events over
500 properties by default) with fresh consumer groups, in the same process, and count from
their first handled event to the last, so group joins are not measured.

* **ours**: one worker process as shipped (``WorkerConfig()``): records of different
  properties run concurrently, one property's records one after another, checkpoints in
  Kafka transactions, held keys and tenant fairness on.
* **baseline**: a sequential consume loop that decodes each record and awaits the same
  handler before taking the next: what a consumer that handles one event at a time does.

The ratio is bounded by the concurrency (64 by default) and by the per-key chains (four
events of a property take at least 4 x 5 ms, one after another).
"""

from __future__ import annotations

import asyncio
import time
import uuid
from dataclasses import asdict, dataclass
from typing import Any

from frontdesk.benchmarks._common import (
    bench_topology,
    cluster_config,
    create_queue_topics,
    fresh_consumer,
    worker_throughput,
)
from frontdesk.benchmarks.worker import prefill
from frontdesk.codec import default_codec
from frontdesk.events import Event
from frontdesk.queues import QueueType
from frontdesk.topology import Topology
from frontdesk.worker import WorkerConfig

HANDLER_SECONDS = 0.005


@dataclass(frozen=True)
class ConcurrencyBenchResult:
    events: int
    keys: int
    handler_ms: float
    ours: float
    """Events per second through the worker runtime."""
    baseline: float
    """Events per second through a sequential consume + decode + await loop."""
    ratio: float
    concurrency: int
    unit: str = "events/s"

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


async def _io_bound(event: Event) -> None:
    await asyncio.sleep(HANDLER_SECONDS)


def sequential_loop(conf: dict[str, Any], topic: str, events: int) -> float:
    """Events/s of a consume loop that awaits the handler for each record in turn."""
    codec = default_codec()
    consumer = fresh_consumer(conf, "bench-seq")
    consumer.subscribe([topic])

    async def run() -> float:
        seen = 0
        started = 0.0
        while seen < events:
            batch = consumer.consume(500, 0.5)
            if batch and not started:
                started = time.perf_counter()
            for msg in batch:
                if msg.error():
                    continue
                await _io_bound(codec.decode(msg.value() or b""))
                seen += 1
        consumer.commit(asynchronous=False)
        return events / (time.perf_counter() - started)

    try:
        return asyncio.run(run())
    finally:
        consumer.close()


def worker_run(
    conf: dict[str, Any], topology: Topology, events: int, config: WorkerConfig
) -> float:
    """Events/s of the worker runtime running the I/O-bound handler."""
    return worker_throughput(conf, topology, events, config, _io_bound)


def run_concurrency_bench(
    events: int = 2000, keys: int = 500, rounds: int = 2
) -> ConcurrencyBenchResult:
    conf = cluster_config()
    topology = bench_topology(f"bench-{uuid.uuid4().hex[:8]}")
    create_queue_topics(conf, topology, QueueType.OPERATIONAL)
    topic = f"{topology.namespace}.pms.operational"
    prefill(conf, topic, events, properties=keys)
    config = WorkerConfig()  # as shipped
    ours = [worker_run(conf, topology, events, config) for _ in range(rounds)]
    baseline = sequential_loop(conf, topic, events)  # slow and steady: one round is enough
    best = max(ours)
    return ConcurrencyBenchResult(
        events=events,
        keys=keys,
        handler_ms=HANDLER_SECONDS * 1000,
        ours=best,
        baseline=baseline,
        ratio=best / baseline,
        concurrency=config.concurrency,
    )


__all__ = ["ConcurrencyBenchResult", "run_concurrency_bench"]
