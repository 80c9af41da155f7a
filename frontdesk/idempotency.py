"""Dedupe windows: let an at-least-once handler make a side effect effectively once.

The worker delivers every event at least once; after a crash or a rebalance a handler may
see an event again. Most handlers are idempotent by construction (upserts keyed by the
event's ids). For the rest, ``ctx.once(step)`` remembers, per app, event id and step, that
a side effect completed::

    async with ctx.once("send-confirmation") as first:
        if first:
            await mailer.send(...)

The marker is written only when the block exits without an exception, so a failed attempt
is tried again on the retry. The remaining window is between the side effect completing
and the marker being written: a crash exactly there repeats the side effect once. Closing
it needs the side effect and the marker in one transaction (e.g. a table in the same
database as the side effect), which a custom `IdempotencyStore` can provide.

`SQLiteStore` is the default: one file per worker group, shared by the processes of one
host (WAL mode). Deployments spread over several hosts need a shared store; implement the
three-method `IdempotencyStore` protocol over their database.
"""

from __future__ import annotations

import asyncio
import sqlite3
import threading
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Protocol, runtime_checkable

DEFAULT_WINDOW = 7 * 24 * 3600.0
"""Seconds a marker is kept: as long as the default topic retention, so a redelivery from
anywhere in the retained log is still recognised."""


@runtime_checkable
class IdempotencyStore(Protocol):
    """Where "step S of event E is done" markers live, per scope (the worker group)."""

    async def is_done(self, scope: str, event_id: str, step: str) -> bool: ...

    async def mark_done(self, scope: str, event_id: str, step: str) -> None: ...

    async def close(self) -> None: ...


class MemoryStore:
    """A per-process store: for tests and for handlers whose dedupe need not survive a
    restart."""

    def __init__(self, window: float = DEFAULT_WINDOW) -> None:
        self.window = window
        self._marks: dict[tuple[str, str, str], float] = {}

    async def is_done(self, scope: str, event_id: str, step: str) -> bool:
        at = self._marks.get((scope, event_id, step))
        return at is not None and time.time() - at < self.window

    async def mark_done(self, scope: str, event_id: str, step: str) -> None:
        self._marks[(scope, event_id, step)] = time.time()

    async def close(self) -> None:
        self._marks.clear()


class SQLiteStore:
    """Markers in a SQLite file; expired ones are purged as new ones are written."""

    _PURGE_EVERY = 1000

    def __init__(self, path: Path | str, window: float = DEFAULT_WINDOW) -> None:
        self.path = Path(path)
        self.window = window
        self._lock = threading.Lock()
        self._conn: sqlite3.Connection | None = None
        self._writes = 0

    def _connect(self) -> sqlite3.Connection:
        if self._conn is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            conn = sqlite3.connect(self.path, timeout=30, check_same_thread=False)
            # WAL lets the worker processes of one host read while another writes.
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")
            conn.execute(
                "CREATE TABLE IF NOT EXISTS done (scope TEXT NOT NULL, event_id TEXT NOT NULL,"
                " step TEXT NOT NULL, at REAL NOT NULL, PRIMARY KEY (scope, event_id, step))"
            )
            conn.commit()
            self._conn = conn
        return self._conn

    def _is_done(self, scope: str, event_id: str, step: str) -> bool:
        with self._lock:
            row = (
                self._connect()
                .execute(
                    "SELECT at FROM done WHERE scope = ? AND event_id = ? AND step = ?",
                    (scope, event_id, step),
                )
                .fetchone()
            )
        return row is not None and time.time() - float(row[0]) < self.window

    def _mark_done(self, scope: str, event_id: str, step: str) -> None:
        now = time.time()
        with self._lock:
            conn = self._connect()
            conn.execute(
                "INSERT OR REPLACE INTO done (scope, event_id, step, at) VALUES (?, ?, ?, ?)",
                (scope, event_id, step, now),
            )
            self._writes += 1
            if self._writes % self._PURGE_EVERY == 0:
                conn.execute("DELETE FROM done WHERE at < ?", (now - self.window,))
            conn.commit()

    async def is_done(self, scope: str, event_id: str, step: str) -> bool:
        return await asyncio.to_thread(self._is_done, scope, event_id, step)

    async def mark_done(self, scope: str, event_id: str, step: str) -> None:
        await asyncio.to_thread(self._mark_done, scope, event_id, step)

    async def close(self) -> None:
        with self._lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None


@asynccontextmanager
async def once(
    store: IdempotencyStore, scope: str, event_id: str, step: str
) -> AsyncIterator[bool]:
    """Yield ``True`` the first time (until it succeeds), ``False`` once it has succeeded."""
    if await store.is_done(scope, event_id, step):
        yield False
        return
    yield True
    await store.mark_done(scope, event_id, step)


__all__ = ["DEFAULT_WINDOW", "IdempotencyStore", "MemoryStore", "SQLiteStore", "once"]
