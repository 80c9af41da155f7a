"""A FastAPI app served on loopback from a thread, with faults a test can switch on and off.

The faults are what real dependencies do on bad days: answer 500, answer 429 with a
Retry-After, or take longer than the client waits. A test (or a demo, through the
``/_control/faults`` endpoint) queues them; each applies to the next ``times`` requests, or
to every request until `recover()`. Every request is logged with the status it got, so a
test can count attempts as well as accepted calls.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import threading
import time
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any, Self

import uvicorn
from fastapi import FastAPI, Request, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

CONTROL = "/_control"


@dataclass(frozen=True, slots=True)
class Fault:
    """How to mistreat one request: wait ``delay`` seconds, then answer ``status`` (if any)
    instead of handling it."""

    status: int | None = None
    delay: float = 0.0
    retry_after: str | None = None


@dataclass(frozen=True, slots=True)
class Logged:
    """One request the server saw, and the status it answered."""

    method: str
    path: str
    status: int
    at: float


@dataclass
class _Queued:
    fault: Fault
    remaining: int | None


@dataclass
class Faults:
    """The queue of faults to apply, shared between the test thread and the server thread."""

    _queue: deque[_Queued] = field(default_factory=deque)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, fault: Fault, times: int | None = None) -> None:
        """Apply ``fault`` to the next ``times`` requests (all of them when None)."""
        with self._lock:
            self._queue.append(_Queued(fault, times))

    def clear(self) -> None:
        with self._lock:
            self._queue.clear()

    def take(self) -> Fault | None:
        """The fault for the request arriving now, if any."""
        with self._lock:
            if not self._queue:
                return None
            head = self._queue[0]
            if head.remaining is not None:
                head.remaining -= 1
                if head.remaining <= 0:
                    self._queue.popleft()
            return head.fault


class FaultRequest(BaseModel):
    """Body of ``POST /_control/faults``."""

    status: int | None = Field(default=None, ge=100, le=599)
    delay: float = Field(default=0.0, ge=0)
    retry_after: str | None = None
    times: int | None = Field(default=None, ge=1)


class LoopbackServer:
    """Serves ``app`` on 127.0.0.1 (a free port) from a daemon thread; a context manager."""

    def __init__(self, app: FastAPI, *, port: int = 0) -> None:
        self.app = app
        self.faults = Faults()
        self._log: list[Logged] = []
        self._log_lock = threading.Lock()
        self._port = port
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self._install_fault_middleware()
        self._install_control_routes()

    # -- lifecycle ---------------------------------------------------------------------

    def start(self, timeout: float = 10.0) -> Self:
        # ws="none" and lifespan="off": nothing here needs them, and loading the websocket
        # stack only brings deprecation warnings.
        config = uvicorn.Config(
            self.app,
            host="127.0.0.1",
            port=self._port,
            log_level="warning",
            ws="none",
            lifespan="off",
            timeout_graceful_shutdown=1,
        )
        server = uvicorn.Server(config)
        thread = threading.Thread(target=server.run, name="fake-http", daemon=True)
        thread.start()
        deadline = time.monotonic() + timeout
        while not server.started:
            if not thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the fake HTTP server did not start")
            time.sleep(0.01)
        self._server, self._thread = server, thread
        return self

    def stop(self) -> None:
        if self._server is None or self._thread is None:
            return
        self.faults.clear()  # release requests parked in a slow fault
        self._server.should_exit = True
        self._thread.join(timeout=10)
        self._server = self._thread = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    @property
    def port(self) -> int:
        if self._server is None:
            raise RuntimeError("the server is not running")
        sockets = self._server.servers[0].sockets
        port: int = sockets[0].getsockname()[1]
        return port

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    # -- faults --------------------------------------------------------------------------

    def fail(self, status: int = 500, *, times: int | None = None) -> None:
        """Answer ``status`` to the next ``times`` requests (all until `recover` if None)."""
        self.faults.add(Fault(status=status), times)

    def rate_limit(self, retry_after: str | float = 1, *, times: int | None = None) -> None:
        """Answer 429 with ``Retry-After: retry_after`` (seconds, or an HTTP date)."""
        value = retry_after if isinstance(retry_after, str) else f"{retry_after:g}"
        self.faults.add(Fault(status=429, retry_after=value), times)

    def slow(self, seconds: float, *, times: int | None = None) -> None:
        """Hold requests ``seconds`` before handling them, to provoke client timeouts."""
        self.faults.add(Fault(delay=seconds), times)

    def recover(self) -> None:
        """Drop every queued fault: requests are handled normally again."""
        self.faults.clear()

    @property
    def requests(self) -> list[Logged]:
        """Every non-control request so far, faulted or not, oldest first."""
        with self._log_lock:
            return list(self._log)

    # -- wiring --------------------------------------------------------------------------

    def _install_fault_middleware(self) -> None:
        async def middleware(
            request: Request, call_next: Callable[[Request], Awaitable[Response]]
        ) -> Response:
            if request.url.path.startswith(CONTROL):
                return await call_next(request)
            fault = self.faults.take()
            response: Response
            if fault is not None and fault.delay:
                await asyncio.sleep(fault.delay)
            if fault is not None and fault.status is not None:
                headers = {"Retry-After": fault.retry_after} if fault.retry_after else None
                response = JSONResponse(
                    {"error": f"injected fault: {fault.status}"}, fault.status, headers=headers
                )
            else:
                response = await call_next(request)
            with self._log_lock:
                self._log.append(
                    Logged(request.method, request.url.path, response.status_code, time.time())
                )
            return response

        self.app.middleware("http")(middleware)

    def _install_control_routes(self) -> None:
        app = self.app

        @app.post(f"{CONTROL}/faults", status_code=204)
        def add_fault(body: FaultRequest) -> None:
            self.faults.add(Fault(body.status, body.delay, body.retry_after), body.times)

        @app.delete(f"{CONTROL}/faults", status_code=204)
        def recover() -> None:
            self.recover()

        @app.get(f"{CONTROL}/requests")
        def requests() -> list[dict[str, Any]]:
            return [
                {"method": r.method, "path": r.path, "status": r.status, "at": r.at}
                for r in self.requests
            ]


__all__ = ["CONTROL", "Fault", "FaultRequest", "Faults", "Logged", "LoopbackServer"]


def serve_until_interrupted(
    make: Callable[[int], LoopbackServer],
    *,
    description: str,
    port: int,
    banner: Callable[[str], str],
    argv: list[str] | None = None,
) -> None:
    """A fake's standalone ``main``: serve on ``--port`` (default ``port``) until Ctrl-C,
    after printing ``banner(url)``."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--port", type=int, default=port)
    args = parser.parse_args(argv)
    with make(args.port) as server:
        print(banner(server.url), flush=True)
        with contextlib.suppress(KeyboardInterrupt):
            threading.Event().wait()
