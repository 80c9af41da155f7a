"""What every benchmark shares: the cluster to run on, its topics, the worker side of a
throughput run, a fresh consumer for the baselines, and how a result is printed."""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections.abc import Awaitable, Callable, Iterable
from typing import Any, Protocol

from confluent_kafka import Consumer

from frontdesk.admin.topics import apply_topics, plan_topics
from frontdesk.connection import NoClusterError, client_config, default_broker
from frontdesk.events import BookingCreated, Event
from frontdesk.queues import QueueType
from frontdesk.settings import Settings
from frontdesk.topology import Topology
from frontdesk.topology.model import parse_topology
from frontdesk.worker import App, Context, Worker, WorkerConfig

PARTITIONS = 6


class BenchResult(Protocol):
    def as_dict(self) -> dict[str, Any]: ...


def cluster_config(
    settings: Settings | None = None, say: Callable[[str], None] = print
) -> dict[str, Any]:
    """The configured cluster, or the local broker (started now if it is not running)."""
    settings = settings or Settings()
    try:
        return client_config(settings)
    except NoClusterError:
        say("no cluster configured: starting the local broker")
        state = default_broker(settings).start(on_progress=say)
        return {**state.client_config(), "client.id": settings.client_id}


def bench_topology(namespace: str, tiers: str = "10s") -> Topology:
    queues = ", ".join(
        f"{q.value}: {{partitions: {PARTITIONS}, retry: {{tiers: [{tiers}]}}}}" for q in QueueType
    )
    return parse_topology(f"cluster: {{namespace: {namespace}}}\nqueues: {{{queues}}}\n")


def create_queue_topics(conf: dict[str, Any], topology: Topology, queue: QueueType) -> None:
    from confluent_kafka.admin import AdminClient  # noqa: PLC0415 - only benchmarks need it

    admin = AdminClient(conf)
    plan = plan_topics(admin, topology)
    marker = f".{queue.value}"
    plan.changes = [c for c in plan.changes if marker in c.describe()]
    apply_topics(admin, plan)
    time.sleep(1.0)  # let leaders settle so neither side pays for elections


def fresh_consumer(conf: dict[str, Any], group_prefix: str, **overrides: Any) -> Consumer:
    """A consumer in a new group (``<group_prefix>-<random>``) that commits only when told."""
    return Consumer(
        {
            **conf,
            "group.id": f"{group_prefix}-{uuid.uuid4().hex[:8]}",
            "auto.offset.reset": "earliest",
            "enable.auto.commit": False,
            **overrides,
        }
    )


def worker_throughput(
    conf: dict[str, Any],
    topology: Topology,
    events: int,
    config: WorkerConfig,
    work: Callable[[Event], Awaitable[None]] | None = None,
) -> float:
    """Events/s of the worker runtime handling ``events`` pre-filled bookings with ``work``
    (nothing when None), from the first handled event to the last."""
    app = App(f"bench-{uuid.uuid4().hex[:8]}", queue="operational", topology=topology)
    state = {"seen": 0, "started": 0.0, "finished": 0.0}
    done = asyncio.Event()

    @app.handler(BookingCreated)
    async def on_booking(event: BookingCreated, ctx: Context) -> None:
        if not state["seen"]:
            state["started"] = time.perf_counter()
        if work is not None:
            await work(event)
        state["seen"] += 1
        if state["seen"] >= events:
            state["finished"] = time.perf_counter()
            done.set()

    worker = Worker(app, topology=topology, config=config, client_config=conf)

    async def main() -> None:
        task = asyncio.create_task(worker.run())
        waiter = asyncio.create_task(done.wait())
        finished, _ = await asyncio.wait({task, waiter}, return_when=asyncio.FIRST_COMPLETED)
        if task in finished:
            task.result()
        worker.stop()
        await task

    asyncio.run(main())
    return events / (state["finished"] - state["started"])


def print_result(result: BenchResult, lines: Iterable[str], *, as_json: bool) -> None:
    """The human lines, then (with ``as_json``) the whole result as one JSON line."""
    for line in lines:
        print(line)
    if as_json:
        print(json.dumps(result.as_dict()))
