"""`ctx.once(step)`: a side effect runs until it succeeds once, then never again; the
subscription regex covers exactly the queue's main topics and their tiers."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from frontdesk.idempotency import MemoryStore, SQLiteStore
from frontdesk.worker.context import Context
from frontdesk.worker.runner import subscription_pattern


def context(store: object, event_id: str = "e-1", attempt: int = 1) -> Context:
    return Context(
        event_id=event_id,
        attempt=attempt,
        tenant_id="acme",
        property_id="p1",
        event_type="BookingCreated",
        topic="pms.operational",
        partition=0,
        offset=1,
        key="acme/p1",
        timestamp_ms=None,
        headers=[],
        app="frontdesk.mailer",
        worker_id="w",
        _store=lambda: store,  # type: ignore[arg-type,return-value]
    )


@pytest.mark.parametrize("kind", ["memory", "sqlite"])
async def test_once_runs_until_it_succeeds_then_never_again(kind: str, tmp_path: Path) -> None:
    store = MemoryStore() if kind == "memory" else SQLiteStore(tmp_path / "dedupe.sqlite3")
    sent: list[int] = []

    async def fail_once() -> None:
        async with context(store).once("send-email") as first:
            assert first
            raise ConnectionError("SMTP down")  # failed: not marked

    with pytest.raises(ConnectionError):
        await fail_once()

    async with context(store, attempt=2).once("send-email") as first:
        if first:
            sent.append(2)
    async with context(store, attempt=3).once("send-email") as first:
        if first:
            sent.append(3)
    assert sent == [2]
    assert await context(store).seen("send-email")
    assert not await context(store).seen("other-step")
    assert not await context(store, event_id="e-2").seen("send-email")
    await store.close()


async def test_sqlite_markers_survive_a_restart_and_expire(tmp_path: Path) -> None:
    path = tmp_path / "dedupe.sqlite3"
    first = SQLiteStore(path)
    await context(first).mark("charge")
    await first.close()
    assert await context(SQLiteStore(path)).seen("charge")
    assert not await context(SQLiteStore(path, window=0)).seen("charge")


def test_subscription_pattern_matches_main_topics_and_tiers_only() -> None:
    rx = re.compile(subscription_pattern("operational", "stg", ["10s", "1m"]))
    assert rx.match("stg.pms.operational")
    assert rx.match("stg.tenant.grand-hotel.operational")
    assert rx.match("stg.pms.operational.retry.10s")
    assert rx.match("stg.tenant.grand-hotel.operational.retry.1m")
    for other in (
        "stg.pms.operational.dlq",
        "stg.pms.operational.retry.5m",
        "stg.pms.sync",
        "pms.operational",
        "prod.pms.operational",
        "stg.tenant.x.operational.parked",
    ):
        assert not rx.match(other), other
    only = re.compile(subscription_pattern("sync", None, [], tenant="grand-hotel"))
    assert only.match("tenant.grand-hotel.sync")
    assert not only.match("pms.sync")
    assert not only.match("tenant.other.sync")
