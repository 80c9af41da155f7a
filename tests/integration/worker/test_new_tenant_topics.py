"""Contract: the worker's regex subscription covers the queue's pooled topic and every
dedicated tenant's topic, including one created while the worker runs: a new dedicated
tenant's events are handled without a restart (at the next metadata refresh). An event
whose payload names another tenant than its dedicated topic is dead-lettered
(``tenant_mismatch``), so one tenant cannot inject work into another's stream.
"""

from __future__ import annotations

import frontdesk
from frontdesk import headers
from frontdesk.events import BookingCreated
from frontdesk.topology.model import parse_topology
from tests.integration.worker.harness import (
    apply_operational,
    drain_all,
    eventually,
    header,
    make_topology,
    running,
)
from tests.support.events import booking, publish
from tests.support.kafka import Cluster


async def test_new_dedicated_tenant_is_picked_up_without_restart(kafka: Cluster) -> None:
    topology = make_topology(kafka, partitions=1)
    ns = topology.namespace
    app = frontdesk.App("tenants", queue="operational")
    seen: list[tuple[str, str]] = []

    @app.handler(BookingCreated)
    async def on_booking(event: BookingCreated, ctx: frontdesk.Context) -> None:
        seen.append((ctx.topic, event.meta.tenant_id))

    async with running(app, kafka, topology):
        publish(kafka.config, f"{ns}.pms.operational", [booking("pooled", tenant_id="small")])
        await eventually(lambda: len(seen) == 1, message="the pooled event")

        grown = topology.model_dump(mode="json")
        grown["tenants"] = [{"id": "newco", "mode": "dedicated"}]
        apply_operational(kafka, parse_topology(__import__("json").dumps(grown)))
        dedicated = f"{ns}.tenant.newco.operational"
        publish(kafka.config, dedicated, [booking("vip", tenant_id="newco")])
        intruder = booking("intruder", tenant_id="small")
        publish(kafka.config, dedicated, [intruder])
        await eventually(lambda: len(seen) == 2, timeout=30, message="the new tenant's event")

        letters: list[object] = []

        def dead_lettered() -> bool:
            letters[:] = drain_all(kafka, f"{dedicated}.dlq", idle=0.5)
            return len(letters) == 1

        await eventually(dead_lettered, timeout=20, message="the intruder in the DLQ")

    assert seen == [(f"{ns}.pms.operational", "small"), (dedicated, "newco")]
    (letter,) = letters
    assert header(letter, headers.REASON) == "tenant_mismatch"  # type: ignore[arg-type]
    assert header(letter, headers.EVENT_ID) == str(intruder.meta.event_id)  # type: ignore[arg-type]
