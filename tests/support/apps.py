"""Sample worker apps for subprocess scenarios (``frontdesk worker tests.support.apps:app``).

Behaviour is steered by the booking id's prefix, so a test decides per event:
``ok-*`` succeeds, ``flaky-*`` fails its first attempt (retryable), ``perm-*`` raises
`NonRetryableError`, ``slow-*`` takes 20 ms, ``fail-*`` fails every attempt (retryable),
``block-*`` blocks the event loop for ``FD_TEST_BLOCK_SECONDS`` (a stuck loop), ``dep-*``
fails its first attempt with an error naming a dependency (a breaker is learned). Every
attempt is recorded in the SQLite file named by ``FD_TEST_DB`` (event id, booking id,
attempt, outcome, pid), which is how tests see what the processes did. The ``tiered`` app
fails every attempt through two tiers, then dead-letters.

``FD_TEST_CRASH_IN_HANDOFF=<marker file>`` kills the process with SIGKILL once, inside the
first checkpoint transaction that carries a hand-off: after the retry/DLQ records were
written to the log, before the transaction commits (the marker makes it happen once).
"""

from __future__ import annotations

import asyncio
import os
import signal
import sqlite3
import threading
import time
from pathlib import Path
from typing import Any

import frontdesk
from frontdesk.events import BookingCreated
from frontdesk.worker.handoff import Forward, TransactionalCommitter

app = frontdesk.App(
    "sample",
    queue="operational",
    config=frontdesk.WorkerConfig(
        commit_interval=0.2,
        session_timeout_ms=6000,
        revoke_timeout=5,
        transaction_timeout=10,
        concurrency=int(os.environ.get("FD_TEST_CONCURRENCY", "16")),
    ),
)

_lock = threading.Lock()
_conns: list[sqlite3.Connection] = []


def _db() -> sqlite3.Connection:
    if not _conns:
        conn = sqlite3.connect(os.environ["FD_TEST_DB"], timeout=30, check_same_thread=False)
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute(
            "CREATE TABLE IF NOT EXISTS attempts (event_id TEXT, booking_id TEXT, attempt INT,"
            " outcome TEXT, pid INT, at INT)"
        )
        conn.commit()
        _conns.append(conn)
    return _conns[0]


def record(event_id: str, booking_id: str, attempt: int, outcome: str) -> None:
    with _lock:
        db = _db()
        db.execute(
            "INSERT INTO attempts VALUES (?, ?, ?, ?, ?, ?)",
            (event_id, booking_id, attempt, outcome, os.getpid(), time.time_ns() // 1_000_000),
        )
        db.commit()


class ChannelManagerDown(ConnectionError):
    """Names its dependency: the worker learns a circuit breaker for it."""

    dependency = "channel-manager"


@app.handler(BookingCreated, tiers=("1s",), max_attempts=2)
async def on_booking(event: BookingCreated, ctx: frontdesk.Context) -> None:
    kind = event.booking_id.split("-", 1)[0]
    if kind == "slow":
        await asyncio.sleep(0.02)
    if kind == "block":
        time.sleep(float(os.environ.get("FD_TEST_BLOCK_SECONDS", "5")))  # the loop stops
    if kind == "dep" and ctx.attempt == 1:
        record(ctx.event_id, event.booking_id, ctx.attempt, "failed")
        raise ChannelManagerDown("channel manager timed out")
    if kind == "fail":
        record(ctx.event_id, event.booking_id, ctx.attempt, "failed")
        raise ConnectionError("always down")
    if kind == "flaky" and ctx.attempt == 1:
        record(ctx.event_id, event.booking_id, ctx.attempt, "failed")
        raise ConnectionError("transient")
    if kind == "perm":
        record(ctx.event_id, event.booking_id, ctx.attempt, "failed")
        raise frontdesk.NonRetryableError("permanent")
    record(ctx.event_id, event.booking_id, ctx.attempt, "ok")


tiered = frontdesk.App("tiered", queue="operational", config=app.config)
"""Every attempt fails (retryably): an event goes through both tiers, then to the DLQ."""


@tiered.handler(BookingCreated, tiers=("1s", "2s"), max_attempts=3)
async def always_failing(event: BookingCreated, ctx: frontdesk.Context) -> None:
    record(ctx.event_id, event.booking_id, ctx.attempt, "failed")
    raise ConnectionError(f"attempt {ctx.attempt} fails")


def _install_crash_in_handoff(marker: Path) -> None:
    produce = TransactionalCommitter._begin_and_produce
    commit = TransactionalCommitter._commit
    carried: dict[int, bool] = {}

    def begin_and_produce(self: TransactionalCommitter, forwards: Any) -> None:
        produce(self, forwards)
        carried[id(self)] = bool(forwards)

    def crash_before_commit(self: TransactionalCommitter) -> None:
        if carried.get(id(self)) and not marker.exists():
            self._producer.flush(10)  # the hand-off records are in the log, uncommitted
            marker.write_text(str(os.getpid()))
            os.kill(os.getpid(), signal.SIGKILL)
        commit(self)

    TransactionalCommitter._begin_and_produce = begin_and_produce  # type: ignore[method-assign]
    TransactionalCommitter._commit = crash_before_commit  # type: ignore[method-assign]


if os.environ.get("FD_TEST_CRASH_IN_HANDOFF"):
    _install_crash_in_handoff(Path(os.environ["FD_TEST_CRASH_IN_HANDOFF"]))

__all__ = ["Forward", "app", "tiered"]
