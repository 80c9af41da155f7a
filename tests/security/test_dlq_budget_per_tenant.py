"""Hole (issue 9, item 8): one tenant's bad data halted everyone. The DLQ budget halted the
whole worker, for every tenant on a shared queue.

Contract: the budget is kept per tenant. Only the tenant over budget is halted: its events
are not handled and not lost (each waits in the queue's longest retry tier, committed there
with its offset), while the other tenants on the same pooled partition keep flowing and
every main-topic offset is committed. Operators see which tenant is halted and why: in the
``frontdesk_tenant_halted{tenant=...}`` gauge, in `frontdesk lag` (its report's halted
tenants) and on the console's overview page over HTTP (`HaltedTenantsProvider`; a tenant
user sees only its own tenant).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from fastapi.testclient import TestClient

from frontdesk import headers
from frontdesk.console import ConsoleConfig, Role, UserStore, add_user, create_app
from frontdesk.dlq import DlqReview
from frontdesk.lag import measure_lag_of
from frontdesk.queues import QueueType
from frontdesk.topology import Topology
from frontdesk.worker.halts import HaltedTenantsProvider
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
from tests.support.http import free_port, sample, scrape
from tests.support.kafka import Cluster


@contextmanager
def console_client(
    kafka: Cluster, topology: Topology, provider: HaltedTenantsProvider, tmp: Path
) -> Iterator[TestClient]:
    """The console app over HTTP (in-process ASGI), showing halted tenants on its overview."""
    users = tmp / "users.yaml"
    add_user(users, "ops", "operator-pass", Role.OPERATOR)
    add_user(users, "acme-ops", "tenant-pass", Role.TENANT, "acme")
    review = DlqReview(kafka.config, topology)
    config = ConsoleConfig(review, UserStore(users), secret_key="test", providers=[provider])
    with TestClient(create_app(config), follow_redirects=False) as client:
        yield client


def login(client: TestClient, name: str, password: str) -> None:
    token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/login").text)
    assert token, "no CSRF field on the login page"
    form = {"username": name, "password": password, "csrf_token": token.group(1)}
    assert client.post("/login", data=form).status_code == 303


async def test_only_the_tenant_over_budget_is_halted(kafka: Cluster, tmp_path: Path) -> None:
    topology = make_topology(kafka, partitions=1, tiers="1s")
    main = f"{topology.namespace}.pms.operational"
    group = sample_group(topology)
    # The sample app's budget: more than 50% of at least 20 events in 60 s. evil's deploy
    # is broken (perm-*: NonRetryableError); acme's events interleave on the same partition.
    broken = [booking(f"perm-{i}", tenant_id="evil", property_id=f"p{i}") for i in range(30)]
    fine = [booking(f"ok-acme-{i}", tenant_id="acme", property_id=f"p{i}") for i in range(30)]
    publish(kafka.config, main, [e for pair in zip(broken, fine, strict=True) for e in pair])
    port = free_port()
    worker = WorkerProcess(kafka, topology, tmp_path, "--metrics-port", str(port))
    try:
        halted = 0.0

        def evil_halted() -> bool:
            nonlocal halted
            halted = sample(scrape(port), "frontdesk_tenant_halted", tenant="evil") or 0.0
            return halted == 1.0

        await eventually(evil_halted, timeout=60, message="evil halted in the metrics")
        text = scrape(port)
        assert sample(text, "frontdesk_tenant_halted", tenant="acme") is None

        # Later events: acme's are handled, evil's (good ones, now) wait.
        later_acme = [booking(f"ok-acme-later-{i}", tenant_id="acme") for i in range(10)]
        later_evil = [booking(f"ok-evil-later-{i}", tenant_id="evil") for i in range(5)]  # 1 key
        publish(kafka.config, main, later_evil + later_acme)
        acme_ids = {e.booking_id for e in fine + later_acme}
        await eventually(
            lambda: acme_ids <= worker.ok_ids_by_booking(), timeout=60, message="acme flowing"
        )
        await settled(kafka, group, main)

        report = measure_lag_of(kafka.config, [group], namespace=topology.namespace)
        (measured,) = report.groups
        assert [h.tenant for h in measured.halted] == ["evil"]
        assert "went to the DLQ" in measured.halted[0].reason
        assert report.to_dict()["groups"][0]["halted"][0]["tenant"] == "evil"
        overview = dict(
            HaltedTenantsProvider(kafka.config, topology).metrics(QueueType.OPERATIONAL, None)
        )
        assert overview["halted tenants"] == "evil"
        assert HaltedTenantsProvider(kafka.config, topology).metrics(
            QueueType.OPERATIONAL, "acme"
        ) == [("halted tenants", "none")], "a tenant user sees only its own tenant"
    finally:
        assert worker.stop() == 0, worker.output()[-3000:]

    handled = worker.ok_ids_by_booking()
    assert not {e.booking_id for e in later_evil} & handled, "the halted tenant is not handled"
    dead = {header(m, headers.EVENT_ID) for m in drain_all(kafka, f"{main}.dlq")}
    assert dead <= {str(e.meta.event_id) for e in broken}
    # Each waits in the tier, or (an ordered key's later events) parked behind the one that does.
    waiting = {header(m, headers.EVENT_ID) for m in drain_all(kafka, f"{main}.retry.1s")}
    parked = {header(m, headers.EVENT_ID) for m in drain_all(kafka, f"{main}.parked")}
    evil_ids = {str(e.meta.event_id) for e in broken + later_evil}
    assert evil_ids <= dead | waiting | parked, "none of the halted tenant's events is lost"
    assert "DLQ BUDGET EXCEEDED" in worker.output()
