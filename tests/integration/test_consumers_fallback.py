"""Contract: the sync deployment's circuit breaker diverts to the fallback deployment
(`consumers.fallback.app:app`) and back, on the real worker and broker with the fake OTA.

The OTA goes down: the breaker of ``ota:booking_com`` opens after the first failures and
the availability changes are diverted to ``pms.fallback`` (headers ``fd-diverted-from``,
``fd-dependency``, ``fd-holds``) instead of burning retry attempts; the property's key is
held by the sync worker, its later changes follow the first one to the fallback queue, in
order. The fallback app keeps them pending in the mirror and probes the OTA through its
retry tiers. The OTA recovers: the fallback app pushes the coalesced state (one push per
property, only the latest values), the sync worker releases the keys, and a change published
afterwards goes straight through the sync deployment again (the breaker closed after a
successful probe).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from types import ModuleType

import pytest

import frontdesk
from consumers.fakes.ota import FakeOta
from consumers.sync import wiring as sync_wiring
from frontdesk import headers
from frontdesk.admin.topics import apply_topics, plan_topics
from frontdesk.events import AvailabilityChanged
from frontdesk.worker import held_keys
from tests.integration.worker.harness import drain_all, eventually, header, make_topology, running
from tests.support.consumers import deployment_env
from tests.support.events import publish
from tests.support.kafka import Cluster

T = "acme"
D = date(2025, 8, 1)


@pytest.fixture
def ota() -> Iterator[FakeOta]:
    with FakeOta() as server:
        yield server


@pytest.fixture
def apps(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, ota: FakeOta
) -> Iterator[tuple[ModuleType, ModuleType]]:
    with deployment_env(monkeypatch, f"sqlite:///{tmp_path / 'consumers.db'}", ota):
        from consumers.fallback import app as fallback
        from consumers.sync import app as sync

        # Quick to open and to probe again, so the scenario takes seconds.
        policy = frontdesk.BreakerPolicy(failure_rate=0.5, window=30, min_calls=2, open_for=1.5)
        monkeypatch.setattr(sync.app, "breaker", policy)
        yield sync, fallback


def change(property_id: str, units: int, minute: int) -> AvailabilityChanged:
    return AvailabilityChanged.new(
        tenant_id=T,
        property_id=property_id,
        occurred_at=datetime(2025, 7, 1, 9, minute, tzinfo=UTC),
        room_type_id="DBL",
        start_date=D,
        end_date=D + timedelta(days=2),
        units_available=units,
        closed_to_arrival=False,
        closed_to_departure=False,
    )


def shown(ota: FakeOta, property_id: str) -> set[int]:
    return {v[0] for v in ota.availability("booking_com", T, property_id, "DBL").values()}


async def test_breaker_diverts_to_fallback_and_back(
    kafka: Cluster, apps: tuple[ModuleType, ModuleType], ota: FakeOta
) -> None:
    sync, fallback = apps
    topology = make_topology(kafka, partitions=1, apply=False)
    plan = plan_topics(kafka.admin, topology)
    plan.changes = [
        c for c in plan.changes if ".sync" in c.describe() or ".fallback" in c.describe()
    ]
    apply_topics(kafka.admin, plan)
    main = f"{topology.namespace}.pms.sync"
    fallback_topic = f"{topology.namespace}.pms.fallback"

    publish(kafka.config, main, [change("lisbon", 5, 0)])
    try:
        async with (
            running(sync.app, kafka, topology) as syncer,
            running(fallback.app, kafka, topology) as degraded,
        ):
            await eventually(lambda: shown(ota, "lisbon") == {5}, message="the channel shows 5")

            ota.fail(503)
            outage = [change("lisbon", 4, 1), change("lisbon", 3, 2), change("lisbon", 2, 3)]
            publish(kafka.config, main, [*outage, change("porto", 7, 1)])
            await eventually(lambda: syncer.stats()["diverted"] == 4, message="all diverted")
            assert syncer.stats()["retried"] == 0, "no retry attempt burned on a down OTA"
            assert syncer.stats()["breakers"] == {"ota:booking_com": "open"}
            assert set(syncer.stats()["held_keys"]) == {"acme/lisbon", "acme/porto"}
            await eventually(
                lambda: degraded.stats()["retried"] >= 4, message="the fallback probes the OTA"
            )
            assert shown(ota, "lisbon") == {5}
            pushes_before = len(ota.pushes)

            ota.recover()
            await eventually(
                lambda: shown(ota, "lisbon") == {2} and shown(ota, "porto") == {7},
                message="the coalesced state pushed",
            )
            await eventually(lambda: syncer.stats()["released"] == 2, message="keys released")
            after = [p for p in ota.pushes[pushes_before:] if p.property_id == "lisbon"]
            # Coalesced: three changes, only the latest state goes out (concurrent drains of
            # two properties may repeat a push; pushes are absolute, so that is harmless).
            assert {p.body["units_available"] for p in after} == {2}

            publish(kafka.config, main, [change("lisbon", 1, 4)])
            await eventually(lambda: shown(ota, "lisbon") == {1}, message="straight through")
            await eventually(lambda: syncer.stats()["breakers"] == {"ota:booking_com": "closed"})
            assert syncer.stats()["diverted"] == 4
            assert degraded.stats()["dead_lettered"] == 0
    finally:
        await sync_wiring.channel_sync().aclose()

    diverted = drain_all(kafka, fallback_topic)
    assert [header(m, headers.EVENT_ID) for m in diverted if m.key() == b"acme/lisbon"] == [
        str(e.meta.event_id) for e in outage
    ], "diverted in order"
    for m in diverted:
        assert header(m, headers.DIVERTED_FROM) == main
        assert header(m, headers.DEPENDENCY) == "ota:booking_com"
        assert header(m, headers.HOLDS)
        assert header(m, headers.ATTEMPT) is None
    assert held_keys(kafka.config, topology) == []
