"""Contract: a transient failure goes through the retry tiers and then succeeds. Each retry
runs no earlier than its due time (failure time + the tier's delay), carries the original
key and value bytes untouched, the attempt count and the failure history; each failing
attempt appears exactly once in its tier. The lateness of retries is measured.
"""

from __future__ import annotations

import time

import frontdesk
from frontdesk import headers
from frontdesk.events import BookingCreated
from tests.integration.worker.harness import drain_all, eventually, header, make_topology, running
from tests.support.events import booking, publish
from tests.support.kafka import Cluster


async def test_transient_failures_succeed_through_the_tiers_never_early(kafka: Cluster) -> None:
    topology = make_topology(kafka, partitions=2, tiers="1s, 2s")
    main = f"{topology.namespace}.pms.operational"
    flaky = [booking(f"flaky-{i}", property_id=f"p{i}") for i in range(6)]
    steady = [booking(f"ok-{i}", property_id=f"p{i}") for i in range(20)]
    publish(kafka.config, main, flaky + steady)

    app = frontdesk.App("retrying", queue="operational")
    attempts: dict[str, list[tuple[int, int, int | None]]] = {}
    """event id -> [(attempt, started at ms, due at ms)]"""
    failed_at: dict[tuple[str, int], int] = {}

    @app.handler(BookingCreated)
    async def on_booking(event: BookingCreated, ctx: frontdesk.Context) -> None:
        now = time.time_ns() // 1_000_000
        attempts.setdefault(ctx.event_id, []).append((ctx.attempt, now, ctx.due_at_ms))
        if event.booking_id.startswith("flaky") and ctx.attempt <= 2:
            failed_at[(ctx.event_id, ctx.attempt)] = time.time_ns() // 1_000_000
            raise ConnectionError(f"channel manager timed out (attempt {ctx.attempt})")

    async with running(app, kafka, topology) as worker:
        await eventually(
            lambda: all(len(attempts.get(str(e.meta.event_id), [])) == 3 for e in flaky),
            timeout=30,
            message="three attempts of every flaky event",
        )
        # Steady bookings of the flaky properties were parked behind them (ordered type).
        await eventually(
            lambda: all(str(e.meta.event_id) in attempts for e in steady),
            message="every steady event, the parked ones after their property's release",
        )
        lateness = worker.stats()["retry_lateness"]

    for event in flaky:
        runs = attempts[str(event.meta.event_id)]
        assert [a for a, _, _ in runs] == [1, 2, 3]
        for (attempt, started, due), delay in zip(runs[1:], (1000, 2000), strict=True):
            assert due is not None
            failure = failed_at[(str(event.meta.event_id), attempt - 1)]
            assert due >= failure + delay, "due time is failure time + the tier's delay"
            assert started >= due, f"attempt {attempt} ran {due - started} ms early"
    for event in steady:
        assert len(attempts[str(event.meta.event_id)]) == 1

    originals = {str(e.meta.event_id): e for e in flaky}
    source_bytes = {header(m, headers.EVENT_ID): m.value() for m in drain_all(kafka, main)}
    for delay, attempt in (("1s", 1), ("2s", 2)):
        records = drain_all(kafka, f"{main}.retry.{delay}")
        ids = [header(m, headers.EVENT_ID) for m in records]
        assert sorted(ids) == sorted(originals), f"each failure once in the {delay} tier"
        for m in records:
            event_id = header(m, headers.EVENT_ID)
            assert m.key() == originals[event_id].key.encode()
            assert m.value() == source_bytes[event_id], "value bytes untouched"
            assert header(m, headers.ATTEMPT) == str(attempt)
            assert header(m, headers.ORIGINAL_TOPIC) == main
            assert header(m, headers.ERROR_CLASS) == "builtins.ConnectionError"
            assert "timed out" in (header(m, headers.ERROR_MESSAGE) or "")
            first = int(header(m, headers.FIRST_FAILURE_AT) or 0)
            last = int(header(m, headers.LAST_FAILURE_AT) or 0)
            assert first <= last
            assert int(header(m, headers.DUE_AT) or 0) >= last + int(delay[0]) * 1000
    assert drain_all(kafka, f"{main}.dlq", idle=0.5) == []
    print("retry lateness", lateness)
    assert lateness["count"] == 12
    assert lateness["min_ms"] >= 0
