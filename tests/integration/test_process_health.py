"""Contract: the outbox relay (``frontdesk outbox relay --health-port P``) and the console
answer ``/healthz`` and ``/readyz`` with JSON, with no login, and 404 on unknown paths.

* the relay is ready while it holds the outbox lock and Kafka answers; a second relay on
  the same outbox is alive but not ready, and says it waits for the lock;
* the console is ready while its users file loads and Kafka answers; its pages still need
  a login (a users file an operator broke: tests/security/test_console_health_discloses_nothing.py).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx

from tests.integration.worker.harness import REPO, eventually, make_topology
from tests.support.http import answers, free_port, probe
from tests.support.kafka import Cluster
from tests.support.processes import console_env, started


def assert_unknown_paths_404(port: int, *paths: str) -> None:
    for path in paths:
        assert probe(port, path)[0] == 404, path


async def test_outbox_relay_health(kafka: Cluster, tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'pms.db'}"
    env = kafka.env()
    init = subprocess.run(
        [sys.executable, "-m", "frontdesk", "outbox", "init", "--db", db],
        cwd=REPO,
        env={**os.environ, **env},
        capture_output=True,
        check=False,
    )
    assert init.returncode == 0, init.stderr.decode()
    first, second = free_port(), free_port()
    seen: dict[str, Any] = {}
    relay = ["outbox", "relay", "--db", db, "--health-port"]
    with started([*relay, str(first)], env, tmp_path / "relay1.log"):
        await eventually(lambda: answers(first, "/readyz", 200, seen), message="relay ready")
        checks = seen["/readyz"]["checks"]
        assert checks["lock"] == {"ok": True, "detail": "holding the outbox lock: publishing"}
        assert checks["kafka"]["ok"] is True
        assert probe(first, "/healthz")[1]["loop"] == "responsive"
        assert_unknown_paths_404(first, "/", "/metrics", "/readyz/x")

        with started([*relay, str(second)], env, tmp_path / "relay2.log"):
            await eventually(lambda: answers(second, "/healthz", 200, seen), message="alive")
            await eventually(lambda: answers(second, "/readyz", 503, seen), message="standby")
            lock = seen["/readyz"]["checks"]["lock"]
            assert lock == {"ok": False, "detail": "waiting for the outbox lock (another relay)"}
            assert probe(first, "/readyz")[0] == 200, "the publishing relay stays ready"


async def test_console_health(kafka: Cluster, tmp_path: Path) -> None:
    port = free_port()
    env = console_env(kafka, make_topology(kafka), tmp_path)
    seen: dict[str, Any] = {}
    args = ["console", "--host", "127.0.0.1", "--port", str(port)]
    with started(args, env, tmp_path / "console.log"):
        await eventually(lambda: answers(port, "/readyz", 200, seen), message="console ready")
        checks = seen["/readyz"]["checks"]
        assert checks["users"] == {"ok": True, "detail": "the users file loads"}
        assert checks["kafka"]["ok"] is True
        assert "DLQ topics exist" in checks["kafka"]["detail"]
        code, live = probe(port, "/healthz")
        assert (code, live["status"]) == (200, "ok")
        assert_unknown_paths_404(port, "/nope", "/healthz/x", "/metrics")
        page = httpx.get(f"http://127.0.0.1:{port}/dlq", follow_redirects=False)
        assert page.status_code == 303, "pages still need a login"
