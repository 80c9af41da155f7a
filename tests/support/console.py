"""The review console served for real (uvicorn on a free port) and driven over HTTP.

`serve` runs the app in a thread the way `frontdesk console` runs it, so a test talks to it
through real sockets, cookies and redirects; `Session` is one browser-less user of it.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import uvicorn

from frontdesk.console import ConsoleConfig, Role, UserStore, add_user, create_app
from frontdesk.dlq import DlqReview
from tests.support.http import free_port

_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


@contextmanager
def serve(config: ConsoleConfig) -> Iterator[str]:
    """The console of ``config`` listening on 127.0.0.1; yields its base URL."""
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(
            create_app(config), host="127.0.0.1", port=port, log_level="warning", lifespan="off"
        )
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert thread.is_alive(), "the console exited while starting"
        assert time.monotonic() < deadline, "the console did not start"
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(10)


def users_file(tmp_path: Path, **tenants: str | None) -> Path:
    """A users file: ``name=None`` is an operator, ``name="acme"`` a user of tenant acme.
    Every password is ``<name>-password``."""
    path = tmp_path / "users.yaml"
    for name, tenant in tenants.items():
        role = Role.OPERATOR if tenant is None else Role.TENANT
        add_user(path, name, f"{name}-password", role, tenant)
    return path


@contextmanager
def console(review: DlqReview, users: Path, **options: Any) -> Iterator[str]:
    """`serve` with the usual test settings (``options``: more `ConsoleConfig` fields)."""
    config = ConsoleConfig(review, UserStore(users), secret_key="test-secret", **options)
    with serve(config) as base:
        yield base


class ManualClock:
    """A console clock (sessions, login throttle) that moves only when the test moves it."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def csrf(html: str) -> str:
    found = _CSRF.search(html)
    assert found, "no CSRF field on the page"
    return found.group(1)


class Session:
    """One user's cookies against a served console (redirects are not followed)."""

    def __init__(self, base: str) -> None:
        self.http = httpx.Client(base_url=base, follow_redirects=False, timeout=60)

    def __enter__(self) -> Session:
        return self

    def __exit__(self, *exc: object) -> None:
        self.http.close()

    def try_login(self, name: str, password: str) -> httpx.Response:
        token = csrf(self.http.get("/login").text)
        return self.http.post(
            "/login", data={"username": name, "password": password, "csrf_token": token}
        )

    def login(self, name: str, password: str | None = None) -> str:
        """Log in (password ``<name>-password`` by default); the CSRF token of the session."""
        response = self.try_login(name, password or f"{name}-password")
        assert response.status_code == 303, response.text
        return self.token()

    def token(self) -> str:
        return csrf(self.http.get("/dlq").text)

    def act(self, step: str, ids: list[str], action: str, **form: str) -> httpx.Response:
        """POST ``/actions/<step>`` (confirm or execute) with this session's CSRF token."""
        data = {"ids": ids, "action": action, "reason": "scenario", "csrf_token": self.token()}
        if step == "execute":
            data["confirmed"] = "yes"
        return self.http.post(f"/actions/{step}", data={**data, **form})
