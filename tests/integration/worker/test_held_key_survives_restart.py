"""Contract: a hold outlives the worker that made it. Worker A holds a key (its first event
waits in a retry tier) and parks the key's later events, then stops; its partitions go to
worker B (another process identity), which reads the held-keys state topic before taking
them: an event of the key published after the hand-over is parked by B too, and when the
held event finally succeeds (handled by B), every parked event runs in order.
"""

from __future__ import annotations

from dataclasses import replace

import frontdesk
from frontdesk.events import BookingCreated
from frontdesk.worker import held_keys
from tests.integration.worker.harness import FAST, eventually, make_topology, running
from tests.support.events import booking, publish
from tests.support.kafka import Cluster


async def test_a_new_owner_keeps_holding_and_releases_in_order(kafka: Cluster) -> None:
    topology = make_topology(kafka, partitions=2, tiers="1s, 2s")
    main = f"{topology.namespace}.pms.operational"
    publish(kafka.config, main, [booking(f"K-{i}", property_id="held") for i in range(3)])

    app = frontdesk.App("restarted", queue="operational")
    order: list[tuple[str, str]] = []
    """(booking id, worker id) of every successful call."""

    @app.handler(BookingCreated, tiers=("1s", "2s"), max_attempts=4)
    async def on_booking(event: BookingCreated, ctx: frontdesk.Context) -> None:
        if event.booking_id == "K-0" and ctx.attempt <= 3:
            raise ConnectionError(f"lock service down (attempt {ctx.attempt})")
        order.append((event.booking_id, ctx.worker_id))

    def parked_on_topic() -> bool:
        found = held_keys(kafka.config, topology)
        return len(found) == 1 and found[0].parked == 2

    async with running(app, kafka, topology, config=replace(FAST, worker_id="a")) as a:
        await eventually(parked_on_topic, message="A holds the key with two events parked")
        assert a.stats()["held_keys"] == ["acme/held"]
    assert order == []

    async with running(app, kafka, topology, config=replace(FAST, worker_id="b")) as b:
        await eventually(lambda: b.stats()["held_keys"] == ["acme/held"], message="restored")
        publish(kafka.config, main, [booking("K-3", property_id="held")])
        await eventually(lambda: b.stats()["parked"] == 1, message="B parks the new event")
        await eventually(lambda: len(order) == 4, timeout=40, message="every event")
        await eventually(lambda: b.stats()["released"] == 1, message="released")

    assert order == [("K-0", "b"), ("K-1", "b"), ("K-2", "b"), ("K-3", "b")]
    await eventually(lambda: held_keys(kafka.config, topology) == [], message="tombstone")
