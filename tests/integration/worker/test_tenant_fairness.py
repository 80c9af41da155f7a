"""Contract: on a pooled topic, one tenant's burst cannot take more than its share of a
worker's concurrency while another tenant's events wait. Tenant A floods ``pms.operational``
with slow events (one property each, so nothing but fairness holds them back); tenant B
publishes a few events after the flood started. B's events are all handled long before A's
backlog drains (without fairness they would wait behind every ready event of A), and the
per-tenant running counts are reported.
"""

from __future__ import annotations

import asyncio
from dataclasses import replace

import frontdesk
from frontdesk.events import BookingCreated
from tests.integration.worker.harness import FAST, eventually, make_topology, running
from tests.support.events import booking, publish
from tests.support.kafka import Cluster


async def test_a_flooding_tenant_leaves_room_for_the_others(kafka: Cluster) -> None:
    topology = make_topology(kafka, partitions=2)
    main = f"{topology.namespace}.pms.operational"
    flood = [booking(f"A-{i}", tenant_id="alpha", property_id=f"a{i}") for i in range(200)]
    publish(kafka.config, main, flood)

    app = frontdesk.App("fair", queue="operational")
    finished: list[str] = []

    @app.handler(BookingCreated)
    async def on_booking(event: BookingCreated, ctx: frontdesk.Context) -> None:
        await asyncio.sleep(0.05)
        finished.append(event.booking_id)

    def beta_left() -> int:
        return 10 - sum(1 for b in finished if b.startswith("B-"))

    config = replace(FAST, concurrency=4, tenant_share=0.5)
    async with running(app, kafka, topology, config=config) as worker:
        await eventually(lambda: len(finished) >= 20, message="the flood is being handled")
        assert set(worker.stats()["running_by_tenant"]) == {"alpha"}
        publish(
            kafka.config,
            main,
            [booking(f"B-{i}", tenant_id="beta", property_id=f"b{i}") for i in range(10)],
        )
        await eventually(lambda: beta_left() == 0, message="tenant B's events")
        alpha_done_then = sum(1 for b in finished if b.startswith("A-"))
        await eventually(lambda: len(finished) == 210, message="the flood drains")

    assert alpha_done_then < 150, f"B waited for {alpha_done_then} of A's 200 events"
