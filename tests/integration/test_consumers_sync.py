"""Contract: the sync deployment (`consumers.sync.app:app`) run by the real worker pushes to
the fake OTA over HTTP; an OTA 500 sends the event through the retry tier until a push
succeeds; an OTA down for longer than the attempts does not dead-letter the change: it
stays pending in the mirror and the fallback drain pushes it once the OTA recovers.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from types import ModuleType

import pytest

from consumers.fakes.ota import FakeOta
from consumers.sync import wiring as sync_wiring
from frontdesk.admin.topics import apply_topics, plan_topics
from frontdesk.events import AvailabilityChanged
from tests.integration.worker.harness import eventually, make_topology, running
from tests.support.consumers import deployment_env
from tests.support.events import publish
from tests.support.kafka import Cluster

T, P = "acme", "lisbon-1"
D = date(2025, 8, 1)


@pytest.fixture
def ota() -> Iterator[FakeOta]:
    with FakeOta() as server:
        yield server


@pytest.fixture
def sync_app(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, ota: FakeOta) -> Iterator[ModuleType]:
    with deployment_env(monkeypatch, f"sqlite:///{tmp_path / 'sync.db'}", ota):
        from consumers.sync import app as module

        yield module


def change(units: int, minute: int) -> AvailabilityChanged:
    return AvailabilityChanged.new(
        tenant_id=T,
        property_id=P,
        occurred_at=datetime(2025, 7, 1, 9, minute, tzinfo=UTC),
        room_type_id="DBL",
        start_date=D,
        end_date=D + timedelta(days=2),
        units_available=units,
        closed_to_arrival=False,
        closed_to_departure=False,
    )


def shown(ota: FakeOta) -> set[int]:
    return {v[0] for v in ota.availability("booking_com", T, P, "DBL").values()}


async def test_sync_deployment_retries_then_leaves_outages_to_the_drain(
    kafka: Cluster, sync_app: ModuleType, ota: FakeOta
) -> None:
    from consumers.fallback.drain import drain_once

    topology = make_topology(kafka, partitions=1, apply=False)
    plan = plan_topics(kafka.admin, topology)
    plan.changes = [c for c in plan.changes if ".sync" in c.describe()]
    apply_topics(kafka.admin, plan)
    main = f"{topology.namespace}.pms.sync"

    ota.fail(500, times=2)
    publish(kafka.config, main, [change(5, 0)])
    async with running(sync_app.app, kafka, topology) as worker:
        await eventually(lambda: shown(ota) == {5}, message="the channel shows 5 units")
        assert worker.stats()["retried"] == 2

        ota.fail(503)  # down for longer than the deployment's attempts
        publish(kafka.config, main, [change(2, 5)])
        await eventually(
            lambda: worker.stats()["handled"] == 2, timeout=60, message="the outage accepted"
        )
        assert worker.stats()["dead_lettered"] == 0
    assert shown(ota) == {5}

    ota.recover()
    try:
        pushed, sent = await drain_once()
    finally:
        await sync_wiring.channel_sync().aclose()
    assert (pushed, sent) == (1, 0)
    assert shown(ota) == {2}
