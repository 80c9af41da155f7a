"""Contract: ``/healthz`` answers 503 once the loop stopped beating for longer than the
bound; ``/readyz`` answers 503 while a check fails or the whole process is halted, and names
halted tenants without failing for them; both bodies are JSON; any other path is a 404 and
``/metrics`` is served only where asked for."""

from __future__ import annotations

import json
from collections.abc import Iterator

import httpx
import pytest

from frontdesk.health import HealthServer, HealthState


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_a_loop_that_stops_beating_is_not_live() -> None:
    clock = Clock()
    state = HealthState(stale_after=5, clock=clock)
    assert state.live()[0] is False, "never beat: not started"
    state.beat()
    clock.now += 5
    ok, body = state.live()
    assert ok
    assert body["loop"] == "responsive"
    clock.now += 0.5
    ok, body = state.live()
    assert not ok
    assert body == {
        "status": "unavailable",
        "loop": "stuck",
        "last_beat_seconds_ago": 5.5,
        "stale_after_seconds": 5,
    }
    state.beat()
    assert state.live()[0]


def test_readiness_follows_checks_and_whole_process_halts() -> None:
    clock = Clock()
    state = HealthState(stale_after=5, clock=clock)
    state.beat()
    assert state.ready()[0], "no check set: nothing fails"
    state.check("group", False, "joining")
    ok, body = state.ready()
    assert not ok
    assert body["checks"] == {"group": {"ok": False, "detail": "joining"}}
    state.check("group", True, "2 partitions")
    state.halt("acme", "DLQ budget of acme exceeded")
    ok, body = state.ready()
    assert ok, "one halted tenant does not stop the others being served"
    assert body["halted"] == {"tenants": {"acme": "DLQ budget of acme exceeded"}}
    state.resume("acme")
    ok, body = state.ready()
    assert ok
    assert body["halted"] == {"tenants": {}}
    clock.now += 6
    ok, body = state.ready()
    assert not ok
    assert body["live"] is False, "a stuck loop is not ready either"


@pytest.fixture
def server() -> Iterator[HealthServer]:
    state = HealthState()
    state.beat()
    srv = HealthServer(state, 0, "127.0.0.1", metrics=False)
    try:
        yield srv
    finally:
        srv.close()


def test_server_paths(server: HealthServer) -> None:
    base = f"http://127.0.0.1:{server.port}"
    live = httpx.get(f"{base}/healthz")
    assert live.status_code == 200
    assert live.headers["content-type"] == "application/json"
    assert live.json()["status"] == "ok"
    server.state.check("kafka", False, "no metadata")
    ready = httpx.get(f"{base}/readyz?verbose=1")
    assert ready.status_code == 503
    assert json.loads(ready.text)["checks"]["kafka"] == {"ok": False, "detail": "no metadata"}
    for path in ("/", "/metrics", "/healthz/x", "/ready"):
        missing = httpx.get(f"{base}{path}")
        assert missing.status_code == 404, path
        assert missing.json()["status"] == "not found"


def test_metrics_served_beside_health_when_asked() -> None:
    state = HealthState()
    srv = HealthServer(state, 0, "127.0.0.1")
    try:
        response = httpx.get(f"http://127.0.0.1:{srv.port}/metrics")
        assert response.status_code == 200
        assert "text/plain" in response.headers["content-type"]
        assert httpx.get(f"http://127.0.0.1:{srv.port}/healthz").status_code == 503
    finally:
        srv.close()
