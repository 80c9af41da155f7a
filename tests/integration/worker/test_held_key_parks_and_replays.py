"""Contract: while an ordered event (BookingCreated) of a key waits in a retry tier, the key
is held: the key's later events are parked in ``<main>.parked`` (with the hold id and the
group), the hold is visible on the held-keys state topic (`held_keys`), and every other key
keeps flowing. When the held event succeeds, the parked events run in their original
order, before any newer event of the key, and the key is released (the hold is
tombstoned); an event published after the release runs straight from the main topic.
"""

from __future__ import annotations

import frontdesk
from frontdesk import headers
from frontdesk.events import BookingCreated
from frontdesk.queues import QueueType
from frontdesk.worker import held_keys
from frontdesk.worker.holds import HeldKeysProvider
from tests.integration.worker.harness import drain_all, eventually, header, make_topology, running
from tests.support.events import booking, publish
from tests.support.kafka import Cluster


async def test_held_key_parks_later_events_and_replays_them_in_order(kafka: Cluster) -> None:
    topology = make_topology(kafka, partitions=2, tiers="1s, 2s")
    main = f"{topology.namespace}.pms.operational"
    held = [booking(f"K-{i}", property_id="held") for i in range(5)]
    others = [booking(f"O-{i}", property_id=f"p{i}") for i in range(20)]
    publish(kafka.config, main, [held[0], *others[:10], *held[1:], *others[10:]])

    app = frontdesk.App("holding", queue="operational")
    order: list[tuple[str, int, str]] = []
    """(booking id, attempt, topic) of every call, in call order."""

    @app.handler(BookingCreated)
    async def on_booking(event: BookingCreated, ctx: frontdesk.Context) -> None:
        order.append((event.booking_id, ctx.attempt, ctx.topic))
        if event.booking_id == "K-0" and ctx.attempt <= 2:
            raise ConnectionError("PMS database timed out")

    def calls(prefix: str) -> list[str]:
        return [b for b, _, _ in order if b.startswith(prefix)]

    async with running(app, kafka, topology) as worker:
        await eventually(lambda: len(calls("O-")) == 20, message="other keys flow")
        assert calls("K-") == ["K-0"], "later events of the held key wait"
        await eventually(lambda: worker.stats()["parked"] == 4, message="four events parked")

        snapshot: list[frontdesk.worker.HeldKey] = []

        def visible() -> bool:
            snapshot[:] = held_keys(kafka.config, topology)
            return bool(snapshot) and snapshot[0].parked == 4

        await eventually(visible, message="the hold on the state topic")
        (hold,) = snapshot
        assert (hold.key, hold.group, hold.stage) == ("acme/held", worker.group_id, "retry")
        assert hold.event_id == str(held[0].meta.event_id)
        assert worker.stats()["held_keys"] == ["acme/held"]
        console = HeldKeysProvider(kafka.config, topology)
        assert ("held keys", "1") in console.metrics(QueueType.OPERATIONAL, "acme")
        assert console.metrics(QueueType.OPERATIONAL, "other-tenant") == [("held keys", "0")]
        assert console.metrics(QueueType.SYNC, None) == [("held keys", "0")]

        await eventually(lambda: len(calls("K-")) == 7, timeout=30, message="the replay")
        await eventually(lambda: worker.stats()["released"] == 1, message="the release")
        publish(kafka.config, main, [booking("K-5", property_id="held")])
        await eventually(lambda: len(calls("K-")) == 8, message="the event after the release")
        await eventually(lambda: held_keys(kafka.config, topology) == [], message="tombstone")
        stats = worker.stats()

    assert calls("K-") == ["K-0", "K-0", "K-0", "K-1", "K-2", "K-3", "K-4", "K-5"]
    topics = {b: t for b, _, t in order}
    assert all(topics[f"K-{i}"] == f"{main}.parked" for i in range(1, 5)), "replayed"
    assert topics["K-5"] == main, "after the release the key reads from the main topic"
    assert (stats["held"], stats["released"], stats["replayed"]) == (1, 1, 4)

    parked = drain_all(kafka, f"{main}.parked")
    assert [m.value() for m in parked] == [
        m.value() for m in drain_all(kafka, main, idle=0.5) if m.key() == b"acme/held"
    ][1:5], "parked records keep their bytes and order"
    for m in parked:
        assert header(m, headers.HOLD_ID) == hold.hold_id
        assert header(m, headers.PARKED_BY) == stats["group_id"]
        assert header(m, headers.ORIGINAL_TOPIC) == main
    retries = drain_all(kafka, f"{main}.retry.1s")
    assert [header(m, headers.HOLDS) for m in retries] == [hold.hold_id]
