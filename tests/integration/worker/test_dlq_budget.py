"""Contract: when the share of a tenant's events going to the DLQ passes the budget (here
more than 50% of at least 20 events within 60 s), the worker stops handling that tenant: it
starts no more of its handlers and says why, loudly, instead of draining the topic into the
DLQ. What was not handled waits in the queue's longest retry tier (committed there with its
offset, so the partition flows on for other tenants; tests/security/
test_dlq_budget_per_tenant.py shows them flowing), for after the fix.

The contract changed with issue 9: the budget used to halt the whole worker and leave the
rest uncommitted on the topic, which stopped every tenant of a shared queue.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import replace

import pytest

import frontdesk
from frontdesk import headers
from frontdesk.events import BookingCreated
from tests.integration.worker.harness import (
    FAST,
    drain_all,
    eventually,
    header,
    make_topology,
    running,
)
from tests.support.events import booking, publish
from tests.support.kafka import Cluster


async def test_budget_pauses_instead_of_draining_into_the_dlq(
    kafka: Cluster, caplog: pytest.LogCaptureFixture
) -> None:
    topology = make_topology(kafka, partitions=2)
    main = f"{topology.namespace}.pms.operational"
    # One property per event: BookingCreated is ordered, so a dead-lettered booking holds
    # its property and parks the property's later events (parks do not count here).
    events = [booking(f"broken-{i}", property_id=f"p{i}") for i in range(200)]
    publish(kafka.config, main, events)

    app = frontdesk.App(
        "budgeted",
        queue="operational",
        dlq_budget=frontdesk.DlqBudget(max_share=0.5, min_events=20, window=60),
    )
    calls = 0

    @app.handler(BookingCreated)
    async def on_booking(event: BookingCreated, ctx: frontdesk.Context) -> None:
        nonlocal calls
        calls += 1
        raise frontdesk.NonRetryableError("deploy broke the rate lookup")

    config = replace(FAST, concurrency=4)
    with caplog.at_level(logging.CRITICAL, logger="frontdesk.worker"):
        async with running(app, kafka, topology, config=config) as worker:
            await eventually(lambda: worker.halted is not None, message="the budget to trip")
            settled = calls
            await asyncio.sleep(2)
            assert calls == settled, "no handler starts once the budget tripped"
            await eventually(lambda: worker.stats()["dead_lettered"] == settled, timeout=10)
            # Records keep running through the runtime (on their way to wait in the tier),
            # but none reaches the handler.
            assert calls == settled
            await eventually(
                lambda: kafka.committed(worker.group_id, main) == kafka.end_offsets(main),
                message="the halted tenant's events committed into the retry tier",
            )

    assert 20 <= settled <= 20 + config.concurrency
    assert "DLQ BUDGET EXCEEDED" in caplog.text
    assert "went to the DLQ" in (worker.halted or "")
    assert set(worker.stats()["halted_tenants"]) == {"acme"}
    dead = {header(m, headers.EVENT_ID) for m in drain_all(kafka, f"{main}.dlq")}
    assert len(dead) == settled
    waiting = {header(m, headers.EVENT_ID) for m in drain_all(kafka, f"{main}.retry.2s")}
    assert dead | waiting == {str(e.meta.event_id) for e in events}, "nothing lost"
    assert not dead & waiting
