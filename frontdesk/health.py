"""Health endpoints for frontdesk's long-running processes: ``/healthz``, ``/readyz``, ``/metrics``.

An orchestrator asks two different questions. *Is the process alive?* (``/healthz``):
its loop still turns; a loop stuck in a blocking call or a deadlock answers 503, and the
process should be restarted. *Should it count as serving?* (``/readyz``): each of its
checks holds (a worker has joined its group, its producer can commit, it is not halted),
and which scopes are halted is said by name. The process updates a `HealthState`; the
endpoint only reports it, so the same server serves the worker and the outbox relay
(the console answers the same JSON through its own routes, `frontdesk.console.app`).

Every answer is JSON with ``status`` (``ok`` or ``unavailable``); any other path is a 404.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

log = logging.getLogger(__name__)

STALE_AFTER = 15.0
"""A loop that has not beaten for this many seconds is taken for stuck."""
BEAT_INTERVAL = 1.0
"""How often a loop beats (well inside `STALE_AFTER`)."""


@dataclass(frozen=True, slots=True)
class Check:
    ok: bool
    detail: str


class HealthState:
    """What a process reports about itself; thread-safe, updated by the process.

    ``beat()`` from its loop; ``check(name, ok, detail)`` for each readiness condition
    (a check never set does not count); ``halt(tenant, reason)``/``resume(tenant)`` for a
    tenant the DLQ budget halted. A halted tenant is listed but does not make the process
    unready: the worker still serves every other tenant.
    """

    def __init__(
        self, *, stale_after: float = STALE_AFTER, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.stale_after = stale_after
        self._clock = clock
        self._lock = threading.Lock()
        self._beat: float | None = None
        self._checks: dict[str, Check] = {}
        self._halted: dict[str, str] = {}

    def beat(self) -> None:
        self._beat = self._clock()

    def check(self, name: str, ok: bool, detail: str = "") -> None:
        with self._lock:
            self._checks[name] = Check(ok, detail)

    def halt(self, tenant: str, reason: str) -> None:
        with self._lock:
            self._halted[tenant] = reason

    def resume(self, tenant: str) -> None:
        with self._lock:
            self._halted.pop(tenant, None)

    def live(self) -> tuple[bool, dict[str, Any]]:
        """Whether the loop beat within `stale_after`, and the JSON body saying so."""
        beat = self._beat
        if beat is None:
            return False, {"status": "unavailable", "loop": "not started"}
        age = self._clock() - beat
        ok = age <= self.stale_after
        body = {
            "status": "ok" if ok else "unavailable",
            "loop": "responsive" if ok else "stuck",
            "last_beat_seconds_ago": round(age, 3),
            "stale_after_seconds": self.stale_after,
        }
        return ok, body

    def ready(self) -> tuple[bool, dict[str, Any]]:
        """Alive and every check holding; the JSON body (halted tenants listed)."""
        live, _ = self.live()
        with self._lock:
            checks = dict(self._checks)
            halted = dict(self._halted)
        ok = live and all(c.ok for c in checks.values())
        body = {
            "status": "ok" if ok else "unavailable",
            "live": live,
            "checks": {name: {"ok": c.ok, "detail": c.detail} for name, c in checks.items()},
            "halted": {"tenants": dict(sorted(halted.items()))},
        }
        return ok, body


def _metrics() -> tuple[bytes, str]:
    from prometheus_client import REGISTRY, generate_latest  # noqa: PLC0415 - only if served
    from prometheus_client.exposition import CONTENT_TYPE_LATEST  # noqa: PLC0415

    return generate_latest(REGISTRY), CONTENT_TYPE_LATEST


class HealthServer:
    """``/healthz``, ``/readyz`` and (optionally) Prometheus ``/metrics`` on one port, in a
    daemon thread; every other path is a 404."""

    def __init__(
        self, state: HealthState, port: int, addr: str = "0.0.0.0", *, metrics: bool = True
    ) -> None:
        self.state = state
        serve_metrics = metrics

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                path = self.path.split("?", 1)[0]
                if path == "/healthz":
                    self._json(*state.live())
                elif path == "/readyz":
                    self._json(*state.ready())
                elif path == "/metrics" and serve_metrics:
                    body, content_type = _metrics()
                    self._send(200, body, content_type)
                else:
                    self._json(False, {"status": "not found"}, code=404)

            def _json(self, ok: bool, body: dict[str, Any], code: int | None = None) -> None:
                payload = json.dumps(body).encode()
                self._send(code or (200 if ok else 503), payload, "application/json")

            def _send(self, code: int, payload: bytes, content_type: str) -> None:
                self.send_response(code)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(payload)))
                self.send_header("Cache-Control", "no-store")
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, format: str, *args: Any) -> None:
                return  # probes every few seconds would drown the process's log

        self._server = ThreadingHTTPServer((addr, port), Handler)
        self._server.daemon_threads = True
        self.port: int = self._server.server_address[1]
        self._thread = threading.Thread(
            target=self._server.serve_forever, name="fd-health", daemon=True
        )
        self._thread.start()
        log.info(
            "health on http://%s:%d/healthz and /readyz%s",
            addr,
            self.port,
            " (metrics on /metrics)" if metrics else "",
        )

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()


__all__ = ["BEAT_INTERVAL", "STALE_AFTER", "Check", "HealthServer", "HealthState"]
