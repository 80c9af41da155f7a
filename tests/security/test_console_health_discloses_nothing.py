"""Hole: the console's ``/healthz`` and ``/readyz`` answer anyone, without a login. A users
file an operator broke made ``/readyz`` quote the parse error, and a YAML error quotes the
file's lines: password hashes and the file's path went to any anonymous caller.

Contract: an anonymous caller learns only *that* the users file does not load (the reason
goes to the console's log); the health routes set no session cookie and open no page; and
once the operator repairs the file, the console is ready again and its operator can log in
and see the dead letters, without a restart.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import httpx

from tests.integration.worker.harness import eventually, make_topology
from tests.support.http import answers, free_port
from tests.support.kafka import Cluster
from tests.support.processes import console_env, started

_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


async def test_console_health_discloses_nothing(kafka: Cluster, tmp_path: Path) -> None:
    port = free_port()
    env = console_env(kafka, make_topology(kafka), tmp_path)
    users = Path(env["FRONTDESK_CONSOLE_USERS_FILE"])
    good = users.read_text()
    secret_hash = re.search(r"scrypt\$[^\"'\s]+", good)
    assert secret_hash is not None
    base = f"http://127.0.0.1:{port}"
    seen: dict[str, Any] = {}
    log = tmp_path / "console.log"
    with started(["console", "--host", "127.0.0.1", "--port", str(port)], env, log):
        await eventually(lambda: answers(port, "/readyz", 200, seen), message="console ready")

        # The operator breaks the file on the line holding the hash.
        users.write_text(good.replace("password:", "password: [", 1))
        await eventually(lambda: answers(port, "/readyz", 503, seen), message="unready")
        raw = httpx.get(f"{base}/readyz")
        assert raw.status_code == 503
        body = raw.text
        for leaked in (secret_hash.group(0), "scrypt", str(users), users.name, "YAML", "line"):
            assert leaked not in body, leaked
        assert seen["/readyz"]["checks"]["users"] == {
            "ok": False,
            "detail": "the users file does not load; the console log says why",
        }
        assert "set-cookie" not in raw.headers
        assert "set-cookie" not in httpx.get(f"{base}/healthz").headers
        assert httpx.get(f"{base}/dlq", follow_redirects=False).status_code == 303

        # Repaired: ready again, and the operator works as before.
        users.write_text(good)
        await eventually(lambda: answers(port, "/readyz", 200, seen), message="ready again")
        with httpx.Client(base_url=base) as client:
            token = _CSRF.search(client.get("/login").text)
            assert token is not None
            login = client.post(
                "/login",
                data={"username": "ops", "password": "operator-pass", "csrf_token": token[1]},
            )
            assert login.status_code == 303
            assert client.get("/dlq").status_code == 200
    assert "not valid YAML" in log.read_text(), "the reason is in the console's log"
