"""Contract: when a second worker joins the group mid-run (cooperative-sticky), the first
finishes the in-flight work of the partitions it gives up, commits it, and only then
releases them; queued but unstarted records are left for the new owner. Every event is
handled exactly once across both workers, and both end up owning partitions.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from dataclasses import replace

import frontdesk
from frontdesk.events import BookingCreated
from tests.integration.worker.harness import FAST, eventually, make_topology, running
from tests.support.events import booking, publish
from tests.support.kafka import Cluster


async def test_revoke_commits_in_flight_work_before_release(kafka: Cluster) -> None:
    topology = make_topology(kafka, partitions=4)
    main = f"{topology.namespace}.pms.operational"
    events = [booking(f"B-{i}", property_id=f"p{i % 50}") for i in range(1200)]
    publish(kafka.config, main, events)

    app = frontdesk.App("rebalanced", queue="operational")
    handled: Counter[str] = Counter()
    by_worker: Counter[str] = Counter()

    @app.handler(BookingCreated)
    async def on_booking(event: BookingCreated, ctx: frontdesk.Context) -> None:
        await asyncio.sleep(0.03)
        handled[ctx.event_id] += 1
        by_worker[ctx.worker_id] += 1

    config = replace(FAST, concurrency=8)
    async with running(app, kafka, topology, config=replace(config, worker_id="first")) as one:
        await eventually(lambda: len(handled) >= 100, message="first worker progressing")
        async with running(app, kafka, topology, config=replace(config, worker_id="second")):
            await eventually(lambda: len(handled) == len(events), timeout=60, message="all")
            await eventually(
                lambda: kafka.committed(one.group_id, main) == kafka.end_offsets(main),
                message="committed to the end",
            )

    duplicates = {k: v for k, v in handled.items() if v > 1}
    assert not duplicates, f"{len(duplicates)} events handled twice"
    assert by_worker["first"] > 0
    assert by_worker["second"] > 0
