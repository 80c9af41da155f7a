"""Helpers for the consumer deployments' tests: a store on SQLite or on PostgreSQL, and the
deployments' environment with their cached wiring reset."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from consumers.automation import wiring as automation_wiring
from consumers.common import wiring
from consumers.common.store import Store
from consumers.fakes.databases import postgres_schema
from consumers.fakes.ota import FakeOta
from consumers.fallback import wiring as fallback_wiring
from consumers.sync import wiring as sync_wiring

STORES = ["sqlite", "postgres"]
"""Fixture params: the same SQL must behave the same on both."""

WIRING = (
    wiring.settings,
    wiring.store,
    sync_wiring.channel_sync,
    automation_wiring.dispatcher,
    fallback_wiring.deferred_pushes,
    fallback_wiring.deferred_messages,
    fallback_wiring.follow_ups,
)
"""The deployments' lazily built pieces, cached per process."""


@contextmanager
def open_store(request: pytest.FixtureRequest, sqlite_file: Path) -> Iterator[Store]:
    """A store on ``sqlite_file`` or on a fresh PostgreSQL schema, as ``request.param`` says
    (PostgreSQL needs the ``postgres_dsn`` fixture in the test module)."""
    if request.param == "sqlite":
        s = Store(f"sqlite:///{sqlite_file}")
        yield s
        s.close()
        return
    with postgres_schema(request.getfixturevalue("postgres_dsn")) as url:
        s = Store(url)
        yield s
        s.close()


@contextmanager
def deployment_env(monkeypatch: pytest.MonkeyPatch, store_url: str, ota: FakeOta) -> Iterator[None]:
    """Point the deployments at ``store_url`` and ``ota`` (2 s HTTP timeout) with fresh
    wiring; close the store and forget the wiring afterwards."""
    monkeypatch.setenv("FRONTDESK_STORE_URL", store_url)
    monkeypatch.setenv("FRONTDESK_OTA_URL", ota.url)
    monkeypatch.setenv("FRONTDESK_HTTP_TIMEOUT", "2")
    for cached in WIRING:
        cached.cache_clear()
    yield
    wiring.store().close()
    for cached in WIRING:
        cached.cache_clear()
