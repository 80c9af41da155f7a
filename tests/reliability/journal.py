"""The journal: what the worker subprocesses of a reliability scenario did, in one SQLite file.

Three tables, written by the handlers of `tests.reliability.app` in every worker process:

* ``attempts``: one row per handler attempt that got as far as the handler (event id, key,
  per-key production sequence, kind, attempt number, outcome, the process, where the
  record was read from, when). Its ``id`` is the global commit order across processes.
* ``effects``: the handler's *side effect*, written at most once per event by design (the
  idempotency helper plus a marker written in the same transaction). It has no unique
  constraint on purpose: a duplicate would show up as a second row.
* ``done``: the idempotency markers (`JournalStore`, the app's `IdempotencyStore`).

A row is committed before the handler returns, so a record whose offset was committed has
its row; a SIGKILLed process loses only rows of handlers that had not returned (whose
offsets therefore were not committed either).

Writes go through `GroupCommit`: one writer thread per process, every queued operation of
a turn in one ``BEGIN IMMEDIATE`` transaction. Handlers of 32 keys then cost one commit,
not 32, and three processes sharing the file do not queue on its write lock.
"""

from __future__ import annotations

import asyncio
import os
import queue
import sqlite3
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

SCHEMA = (
    "CREATE TABLE IF NOT EXISTS attempts ("
    " id INTEGER PRIMARY KEY AUTOINCREMENT, event_id TEXT NOT NULL, key TEXT NOT NULL,"
    " seq INTEGER NOT NULL, kind TEXT NOT NULL, ordered INTEGER NOT NULL,"
    " attempt INTEGER NOT NULL, outcome TEXT NOT NULL, first INTEGER, applied INTEGER,"
    " pid INTEGER NOT NULL, topic TEXT NOT NULL, partition INTEGER NOT NULL,"
    " offset INTEGER NOT NULL, at_ms INTEGER NOT NULL)",
    "CREATE TABLE IF NOT EXISTS effects ("
    " id INTEGER PRIMARY KEY AUTOINCREMENT, event_id TEXT NOT NULL, pid INTEGER NOT NULL,"
    " at_ms INTEGER NOT NULL)",
    "CREATE TABLE IF NOT EXISTS done (scope TEXT NOT NULL, event_id TEXT NOT NULL,"
    " step TEXT NOT NULL, at REAL NOT NULL, PRIMARY KEY (scope, event_id, step))",
)

Op = Callable[[sqlite3.Connection], Any]


def now_ms() -> int:
    return time.time_ns() // 1_000_000


def connect(path: Path | str) -> sqlite3.Connection:
    conn = sqlite3.connect(path, timeout=60, check_same_thread=False, isolation_level=None)
    # WAL: readers (the test) never block the writers; NORMAL: a commit survives the
    # process being SIGKILLed (only an OS crash could lose it), without an fsync per commit.
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")
    return conn


def create(path: Path) -> Path:
    """Create the journal (by the test, before any worker starts: no DDL races)."""
    with connect(path) as conn:
        for statement in SCHEMA:
            conn.execute(statement)
    return path


class GroupCommit:
    """One writer thread per process; each turn commits every queued operation at once."""

    def __init__(self, path: Path | str) -> None:
        self.path = path
        self._queue: queue.SimpleQueue[tuple[Op, asyncio.Future[Any]]] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    async def run(self, op: Op) -> Any:
        """Run ``op`` in the next group transaction; return its result once committed."""
        if self._thread is None:
            with self._lock:
                if self._thread is None:
                    self._thread = threading.Thread(target=self._write, name="journal", daemon=True)
                    self._thread.start()
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._queue.put((op, future))
        return await future

    def _write(self) -> None:
        conn = connect(self.path)
        while True:
            batch = [self._queue.get()]
            while True:
                try:
                    batch.append(self._queue.get_nowait())
                except queue.Empty:
                    break
            results: list[Any] = []
            error: BaseException | None = None
            try:
                conn.execute("BEGIN IMMEDIATE")
                results = [op(conn) for op, _ in batch]
                conn.execute("COMMIT")
            except Exception as exc:  # the handler fails and is retried
                error = exc
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
            for n, (_, future) in enumerate(batch):
                loop = future.get_loop()
                if error is not None:
                    loop.call_soon_threadsafe(_settle, future, None, error)
                else:
                    loop.call_soon_threadsafe(_settle, future, results[n], None)


def _settle(future: asyncio.Future[Any], result: Any, error: BaseException | None) -> None:
    if future.done():
        return
    if error is not None:
        future.set_exception(error)
    else:
        future.set_result(result)


class JournalStore:
    """The app's `IdempotencyStore`: markers in the journal's ``done`` table, so that the
    side effect and its marker can be written in one transaction (`apply_effect`)."""

    def __init__(self, writer: GroupCommit) -> None:
        self.writer = writer

    async def is_done(self, scope: str, event_id: str, step: str) -> bool:
        row = await self.writer.run(
            lambda c: c.execute(
                "SELECT 1 FROM done WHERE scope = ? AND event_id = ? AND step = ?",
                (scope, event_id, step),
            ).fetchone()
        )
        return row is not None

    async def mark_done(self, scope: str, event_id: str, step: str) -> None:
        await self.writer.run(
            lambda c: c.execute(
                "INSERT OR IGNORE INTO done VALUES (?, ?, ?, ?)",
                (scope, event_id, step, time.time()),
            )
        )

    async def close(self) -> None:
        return None


def apply_effect(conn: sqlite3.Connection, scope: str, event_id: str, step: str) -> bool:
    """The side effect and its idempotency marker in one transaction: False when the
    marker was already there (another delivery got here first)."""
    exists = conn.execute(
        "SELECT 1 FROM done WHERE scope = ? AND event_id = ? AND step = ?",
        (scope, event_id, step),
    ).fetchone()
    if exists is not None:
        return False
    conn.execute(
        "INSERT INTO effects (event_id, pid, at_ms) VALUES (?, ?, ?)",
        (event_id, os.getpid(), now_ms()),
    )
    conn.execute("INSERT INTO done VALUES (?, ?, ?, ?)", (scope, event_id, step, time.time()))
    return True


def read(path: Path, sql: str, *params: object) -> list[tuple[Any, ...]]:
    """Rows from the journal (empty before it exists)."""
    if not path.exists():
        return []
    conn = sqlite3.connect(path, timeout=60)
    try:
        return list(conn.execute(sql, params))
    finally:
        conn.close()


__all__ = ["SCHEMA", "GroupCommit", "JournalStore", "apply_effect", "connect", "create", "read"]
