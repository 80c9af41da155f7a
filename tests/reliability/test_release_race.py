"""Contract: releasing a held key replays every event parked behind it, including one
parked while the release was reading the parked topic.

Minimal reproduction of the event the mixed-stream scenario lost. An in-process worker
owns a 1-partition topic. Each of 40 properties first gets an event whose first attempt
fails (retryably): the key is held and the event waits 1 s in the retry tier. Meanwhile
every property keeps receiving an event every 100 ms, so events are parked behind the
hold, before and *during* its release. A release reads the parked topic (`scan_parked`,
in a thread), replays what it found, and finishes when a read finds nothing new and no
park is uncommitted. But a park committed while a read is in flight wakes the release
up only through `_continue_release`, which returns at once because the hold is still
``scanning``; the read then comes back without that record, no park is pending any more,
and the key is released: the record stays in the parked topic, its main-topic offset is
committed, and it is never handled (lost), while the next events of the key flow again
(order broken).
"""

from __future__ import annotations

import asyncio
import time
from collections import defaultdict
from dataclasses import replace

import frontdesk
from frontdesk.events import BookingCreated
from tests.integration.worker.harness import FAST, make_topology, running
from tests.support.events import booking, publish
from tests.support.kafka import Cluster

KEYS = 20
FOLLOW_UPS = 20  # per key, one every STEP seconds
STEP = 0.1


async def test_release_replays_events_parked_during_its_read(kafka: Cluster) -> None:
    topology = make_topology(kafka, partitions=1, tiers="1s")
    main = f"{topology.namespace}.pms.operational"
    app = frontdesk.App(
        "release-race",
        queue="operational",
        retry=frontdesk.RetryPolicy(tiers=("1s",), max_attempts=2),
    )
    handled: dict[str, list[int]] = defaultdict(list)

    @app.handler(BookingCreated)
    async def on_booking(event: BookingCreated, ctx: frontdesk.Context) -> None:
        _, key, seq = event.booking_id.split(".")
        if seq == "0" and ctx.attempt == 1:
            raise ConnectionError("the first event of each property fails once")
        handled[key].append(int(seq))

    def event(k: int, seq: int) -> BookingCreated:
        return booking(f"b.k{k}.{seq}", property_id=f"k{k}")

    config = replace(FAST, concurrency=32)
    async with running(app, kafka, topology, config=config):
        publish(kafka.config, main, [event(k, 0) for k in range(KEYS)])
        began = time.monotonic()
        for seq in range(1, FOLLOW_UPS + 1):
            await asyncio.sleep(max(0.0, began + seq * STEP - time.monotonic()))
            await asyncio.to_thread(
                publish, kafka.config, main, [event(k, seq) for k in range(KEYS)]
            )
        total = KEYS * (FOLLOW_UPS + 1)
        # until everything is handled, or nothing more is for 5 s (whatever is missing then
        # stays missing: its main-topic offset is committed)
        count, quiet_since = -1, time.monotonic()
        while time.monotonic() - quiet_since < 5:
            now = sum(len(set(s)) for s in handled.values())
            if now >= total:
                break
            if now != count:
                count, quiet_since = now, time.monotonic()
            await asyncio.sleep(0.1)
        lost = {
            key: sorted(set(range(FOLLOW_UPS + 1)) - set(seqs))
            for key, seqs in handled.items()
            if set(range(FOLLOW_UPS + 1)) - set(seqs)
        }
    assert not lost, f"{len(lost)} properties lost parked events: {dict(list(lost.items())[:3])}"
    for key, seqs in handled.items():
        firsts = list(dict.fromkeys(seqs))
        assert firsts == sorted(firsts), f"{key} out of order: {firsts}"
