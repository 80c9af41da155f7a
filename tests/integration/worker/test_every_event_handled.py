"""Contract: every event on the queue is handled at least once; events of one key never run
concurrently while different keys do; once the work is done, the group's committed offsets
reach the end of every partition.
"""

from __future__ import annotations

import asyncio
import random
from collections import Counter

import frontdesk
from frontdesk.events import BookingCreated
from tests.integration.worker.harness import eventually, make_topology, running
from tests.support.events import booking, publish
from tests.support.kafka import Cluster


async def test_every_event_handled_and_committed(kafka: Cluster) -> None:
    topology = make_topology(kafka, partitions=3)
    topic = f"{topology.namespace}.pms.operational"
    events = [booking(f"B-{i}", tenant_id=f"t{i % 3}", property_id=f"p{i % 7}") for i in range(300)]
    publish(kafka.config, topic, events)

    app = frontdesk.App("every", queue="operational")
    handled: Counter[str] = Counter()
    in_flight: Counter[str] = Counter()
    overlaps: list[str] = []
    max_parallel = 0
    order: dict[str, list[str]] = {}

    @app.handler(BookingCreated)
    async def on_booking(event: BookingCreated, ctx: frontdesk.Context) -> None:
        nonlocal max_parallel
        assert ctx.attempt == 1
        if in_flight[event.key]:
            overlaps.append(event.key)
        in_flight[event.key] += 1
        max_parallel = max(max_parallel, sum(1 for v in in_flight.values() if v))
        await asyncio.sleep(random.uniform(0, 0.01))
        order.setdefault(event.key, []).append(event.booking_id)
        handled[ctx.event_id] += 1
        in_flight[event.key] -= 1

    async with running(app, kafka, topology) as worker:
        await eventually(lambda: len(handled) == len(events), message="all events handled")
        await eventually(
            lambda: kafka.committed(worker.group_id, topic) == kafka.end_offsets(topic),
            message="committed offsets at the end",
            timeout=15,
        )

    assert set(handled) == {str(e.meta.event_id) for e in events}
    assert not overlaps, f"same key ran concurrently: {overlaps[:5]}"
    assert max_parallel > 1, "different keys should run concurrently"
    # per key, the handling order is the production order
    for key, seen in order.items():
        produced = [e.booking_id for e in events if e.key == key]
        assert seen == produced, key
