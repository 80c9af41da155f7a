"""Hole (issue 9, item 1): the runtime believed ``fd-*`` runtime headers wherever it read
them. ``fd-attempt: abc`` on a main topic raised ``ValueError`` out of the record path and
crash-looped the worker at the same offset for every tenant of the queue; ``fd-attempt: 999``
sent an event to the DLQ after a single attempt.

Contract: runtime headers (`frontdesk.headers.RUNTIME`) are believed only on the retry and
parked records the runtime wrote; on a main topic they are stripped, so a forged attempt
count means attempt 1 and a forged ``fd-holds`` or ``fd-original-topic`` goes nowhere. A
runtime header that cannot be parsed on a retry record (including a due time later than its
tier could delay) is dead-lettered as ``bad_header``. The worker process never exits, and
the other tenant's later events are handled and every offset is committed.
"""

from __future__ import annotations

import uuid
from pathlib import Path

from frontdesk import headers
from frontdesk.worker.holds import held_topic, holder_key
from tests.integration.worker.harness import (
    WorkerProcess,
    drain_all,
    eventually,
    header,
    make_topology,
    sample_group,
    settled,
)
from tests.support.events import booking, publish
from tests.support.kafka import Cluster

FORGED_HOLD = uuid.uuid4().hex
FORGED_ON_MAIN = {
    "ok-abc": [(headers.ATTEMPT, b"abc")],
    "flaky-999": [(headers.ATTEMPT, b"999")],
    "ok-due": [(headers.DUE_AT, b"\xff\xfenot a time")],
    "ok-holds": [
        (headers.HOLDS, FORGED_HOLD.encode()),
        (headers.ORIGINAL_TOPIC, b"__consumer_offsets"),
        (headers.HOLD_ID, b"garbage"),
    ],
}
FORGED_ON_RETRY = {
    "ok-retry-abc": [(headers.ATTEMPT, b"abc")],
    "ok-retry-due": [(headers.ATTEMPT, b"1"), (headers.DUE_AT, b"soon")],
    "ok-retry-far": [(headers.ATTEMPT, b"1"), (headers.DUE_AT, b"9999999999999999999")],
}


async def test_forged_runtime_headers_neither_crash_nor_steer_the_worker(
    kafka: Cluster, tmp_path: Path
) -> None:
    topology = make_topology(kafka, partitions=1, tiers="1s")
    main = f"{topology.namespace}.pms.operational"
    retry = f"{main}.retry.1s"
    for booking_id, forged in FORGED_ON_MAIN.items():
        event = booking(booking_id, tenant_id="acme", property_id=booking_id)
        publish(kafka.config, main, [event], extra_headers=forged)
    for booking_id, forged in FORGED_ON_RETRY.items():
        event = booking(booking_id, tenant_id="acme", property_id=booking_id)
        publish(kafka.config, retry, [event], extra_headers=forged)
    later = [booking(f"ok-later-{i}", tenant_id="other", property_id="p1") for i in range(5)]
    publish(kafka.config, main, later)

    worker = WorkerProcess(kafka, topology, tmp_path)
    try:
        wanted = {"ok-abc", "ok-due", "ok-holds", "flaky-999"} | {e.booking_id for e in later}
        await eventually(
            lambda: wanted <= worker.ok_ids_by_booking(),
            timeout=60,
            message="every admitted event handled",
        )
        group = sample_group(topology)
        await settled(kafka, group, main)
        # The retry tier ends with a transaction marker: committed past every record is enough.
        await eventually(
            lambda: kafka.committed(group, retry).get(0, 0) >= len(FORGED_ON_RETRY) + 1,
            message="the retry tier committed past the forged records and the real retry",
        )
        assert worker.process.poll() is None, "the worker never exits on a forged header"
    finally:
        assert worker.stop() == 0, worker.output()[-3000:]

    attempts = worker.rows("SELECT booking_id, attempt, outcome FROM attempts ORDER BY at")
    assert ("ok-abc", 1, "ok") in attempts, "fd-attempt: abc on a main topic is attempt 1"
    flaky = [(a, o) for b, a, o in attempts if b == "flaky-999"]
    assert flaky == [(1, "failed"), (2, "ok")], "fd-attempt: 999 does not exhaust retries"
    assert not {b for b, _, _ in attempts} & set(FORGED_ON_RETRY), "bad headers never run"

    letters = drain_all(kafka, f"{main}.dlq")
    assert sorted(header(m, headers.REASON) or "" for m in letters) == ["bad_header"] * 3
    for letter in letters:
        assert header(letter, headers.ORIGINAL_TOPIC) == retry
    state = {(m.key() or b"").decode() for m in drain_all(kafka, held_topic(topology.namespace))}
    assert holder_key(FORGED_HOLD) not in state, "a forged fd-holds on a main topic reports nothing"
