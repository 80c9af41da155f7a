"""Contract: a graceful (cooperative) rebalance hands a partition over without redelivering
anything the giver already handled.

Minimal reproduction of what the 1 → 4 → 1 scaling scenario measures at scale. One
worker owns both partitions of a topic. On each partition a slow event (3 s) of key K is
followed by a second event of K, then by fast events of other keys. When the second worker
joins, the first is still running the slow events; the follow-ups of K wait behind them
in the key scheduler, and every fast event is already handled. The revocation lets the
running handlers finish, but drops the queued follow-ups, so the commit point of the
revoked partition stops at a follow-up and the new owner handles every fast event after
it a second time, although nobody crashed.
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


async def test_handover_redelivers_nothing_already_handled(kafka: Cluster) -> None:
    topology = make_topology(kafka, partitions=2)
    main = f"{topology.namespace}.pms.operational"
    slow = [booking(f"slow-{k}", property_id=f"k{k}") for k in range(8)]
    follow = [booking(f"follow-{k}", property_id=f"k{k}") for k in range(8)]
    fast = [booking(f"fast-{i}", property_id=f"f{i % 40}") for i in range(200)]
    publish(kafka.config, main, slow + follow + fast)

    app = frontdesk.App("handover", queue="operational")
    handled: Counter[str] = Counter()

    @app.handler(BookingCreated)
    async def on_booking(event: BookingCreated, ctx: frontdesk.Context) -> None:
        if event.booking_id.startswith("slow"):
            await asyncio.sleep(3)
        handled[event.booking_id] += 1

    config = replace(FAST, concurrency=32, revoke_timeout=10)
    async with running(app, kafka, topology, config=replace(config, worker_id="one")):
        await eventually(lambda: len(handled) >= len(fast), message="the fast events")
        async with running(app, kafka, topology, config=replace(config, worker_id="two")):
            await eventually(lambda: len(handled) == 216, timeout=60, message="every event")
            await asyncio.sleep(2)  # a redelivery would come now

    twice = sorted(b for b, n in handled.items() if n > 1)
    assert not twice, f"{len(twice)} events handled twice without a crash: {twice[:5]}"
