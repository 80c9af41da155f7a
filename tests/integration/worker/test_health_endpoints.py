"""Contract: ``frontdesk worker --metrics-port P`` answers ``/healthz`` and ``/readyz`` with
JSON beside ``/metrics``, and 404 on any other path (it used to answer 200 everywhere).

* ``/readyz`` is 200 once the worker joined its group with a usable producer;
* a handler that blocks the event loop past ``FRONTDESK_HEALTH_STALE_AFTER`` makes
  ``/healthz`` answer 503 ("stuck") while it lasts, and 200 again after;
* a worker halted by its DLQ budget stays alive (``/healthz`` 200) but answers ``/readyz``
  with 503 and says why;
* a member the group gave no partition (more members than partitions) is legitimately
  waiting: ready, and its ``group`` check says so.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import frontdesk
from frontdesk.events import BookingCreated
from frontdesk.worker import Worker
from tests.integration.worker.harness import FAST, WorkerProcess, eventually, make_topology
from tests.support.events import booking, publish
from tests.support.http import answers, free_port, probe
from tests.support.kafka import Cluster


async def test_worker_health_endpoints(kafka: Cluster, tmp_path: Path) -> None:
    topology = make_topology(kafka, partitions=2, tiers="1s")
    main = f"{topology.namespace}.pms.operational"
    port = free_port()
    worker = WorkerProcess(
        kafka,
        topology,
        tmp_path,
        "--metrics-port",
        str(port),
        env={"FRONTDESK_HEALTH_STALE_AFTER": "2", "FD_TEST_BLOCK_SECONDS": "6"},
    )
    seen: dict[str, Any] = {}

    def at(path: str, status: int) -> bool:
        return answers(port, path, status, seen)

    try:
        await eventually(lambda: at("/readyz", 200), timeout=60, message="ready")
        ready = seen["/readyz"]
        assert ready["status"] == "ok"
        assert ready["checks"]["group"]["ok"] is True
        assert "partitions assigned" in ready["checks"]["group"]["detail"]
        assert ready["checks"]["producer"]["ok"] is True
        assert ready["halted"] == {"tenants": {}}
        code, live = probe(port, "/healthz")
        assert (code, live["status"], live["loop"]) == (200, "ok", "responsive")
        assert probe(port, "/metrics")[0] == 200
        for path in ("/", "/nope", "/metrics/x", "/healthz/"):
            code, body = probe(port, path)
            assert code == 404, path
            assert body["status"] == "not found"

        publish(kafka.config, main, [booking("block-1")])
        await eventually(lambda: at("/healthz", 503), timeout=30, message="loop stuck")
        assert seen["/healthz"]["loop"] == "stuck"
        code, ready = probe(port, "/readyz")
        assert code == 503
        assert ready["live"] is False
        await eventually(lambda: at("/healthz", 200), timeout=30, message="loop back")
        await eventually(lambda: at("/readyz", 200), timeout=30, message="ready again")

        # Distinct properties: each dead letter holds only its own key.
        doomed = [booking(f"perm-{i}", property_id=f"p-{i}") for i in range(25)]
        publish(kafka.config, main, doomed)
        # The DLQ budget halts the tenant, not the worker: listed, and the worker stays
        # ready for every other tenant.
        await eventually(
            lambda: at("/readyz", 200) and bool(seen["/readyz"]["halted"]["tenants"]),
            timeout=60,
            message="tenant halted",
        )
        halted = seen["/readyz"]
        assert halted["status"] == "ok"
        ((tenant, reason),) = halted["halted"]["tenants"].items()
        assert tenant == doomed[0].meta.tenant_id
        assert "went to the DLQ" in reason
        assert probe(port, "/healthz")[0] == 200, "a worker with a halted tenant is alive"
    finally:
        code = worker.stop()
    assert code == 0, worker.output()[-3000:]


async def test_a_member_without_partitions_is_ready(kafka: Cluster) -> None:
    topology = make_topology(kafka, partitions=1, tiers="1s")  # main + one tier: 2 partitions
    app = frontdesk.App("idle", queue="operational")

    @app.handler(BookingCreated)
    async def on_booking(event: BookingCreated, ctx: frontdesk.Context) -> None:
        return None

    workers = [
        Worker(app, topology=topology, config=FAST, client_config=kafka.config) for _ in range(3)
    ]
    tasks = [asyncio.create_task(w.run()) for w in workers]

    def settled() -> bool:
        assigned = sum(len(w.stats()["assigned"]) for w in workers)
        return assigned == 2 and all(w.health.ready()[0] for w in workers)

    try:
        await eventually(settled, timeout=60, message="three ready members, two partitions")
        details = [w.health.ready()[1]["checks"]["group"]["detail"] for w in workers]
        idle = [d for d in details if "no partitions assigned" in d]
        assert len(idle) == 1, details
        assert "more members than partitions" in idle[0]
    finally:
        for w in workers:
            w.stop()
        await asyncio.gather(*tasks)
