"""The consumer deployments' database: SQLite by default, PostgreSQL when the URL says so.

One small facade instead of an ORM: the deployments write a handful of tables with plain
SQL that both engines accept (``?`` placeholders, ``ON CONFLICT``, ``TEXT`` for dates and
amounts so values read back exactly as written). The URL comes from ``FRONTDESK_STORE_URL``:
``sqlite:///relative.db``, ``sqlite:////absolute/path.db``, ``sqlite:///:memory:`` or
``postgresql://user:pass@host/db``.

Delivery is at-least-once, so every handler's writes happen in one transaction together
with a claim on the event id (`Tx.claim`): a redelivered event finds its claim and changes
nothing, and a failed one leaves no claim behind, so its retry runs from scratch.

One connection per `Store`, guarded by a lock: handlers run their database work in a thread
(`asyncio.to_thread`) so the event loop never waits on disk, and the lock keeps those
threads from interleaving statements on the shared connection.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal, Protocol
from urllib.parse import urlsplit
from uuid import UUID

import psycopg
from psycopg.rows import dict_row

Dialect = Literal["sqlite", "postgresql"]
Row = dict[str, Any]
Params = Sequence[Any]

PROCESSED_EVENTS = """
CREATE TABLE IF NOT EXISTS processed_events (
    scope TEXT NOT NULL,
    event_id TEXT NOT NULL,
    processed_at TEXT NOT NULL,
    PRIMARY KEY (scope, event_id)
)
"""


class _Cursor(Protocol):
    rowcount: int

    def fetchone(self) -> Any: ...
    def fetchall(self) -> list[Any]: ...


class Tx:
    """One open transaction: run statements, read rows as dicts, claim event ids."""

    def __init__(self, conn: Any, dialect: Dialect) -> None:
        self._conn = conn
        self.dialect = dialect

    def _sql(self, sql: str) -> str:
        if self.dialect == "postgresql":
            # psycopg uses %s; a literal % must be doubled first.
            return sql.replace("%", "%%").replace("?", "%s")
        return sql

    def execute(self, sql: str, params: Params = ()) -> int:
        """Run one statement; the number of rows it changed."""
        cur: _Cursor = self._conn.execute(self._sql(sql), tuple(params))
        return cur.rowcount

    def execute_many(self, sql: str, rows: Iterable[Params]) -> None:
        """Run one statement per parameter row."""
        sql = self._sql(sql)
        for params in rows:
            self._conn.execute(sql, tuple(params))

    def one(self, sql: str, params: Params = ()) -> Row | None:
        """The first row of a query, or None."""
        cur: _Cursor = self._conn.execute(self._sql(sql), tuple(params))
        row = cur.fetchone()
        return None if row is None else dict(row)

    def all(self, sql: str, params: Params = ()) -> list[Row]:
        """Every row of a query."""
        cur: _Cursor = self._conn.execute(self._sql(sql), tuple(params))
        return [dict(row) for row in cur.fetchall()]

    def claim(self, scope: str, event_id: UUID | str) -> bool:
        """Record that ``scope`` handled ``event_id``; False when it already had.

        Call it first in the transaction that applies the event: the claim commits with
        the changes or not at all.
        """
        return (
            self.execute(
                "INSERT INTO processed_events (scope, event_id, processed_at) VALUES (?, ?, ?) "
                "ON CONFLICT (scope, event_id) DO NOTHING",
                (scope, str(event_id), now_iso()),
            )
            == 1
        )


class Store:
    """A connection to the deployments' database; see the module docstring."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.dialect = dialect_of(url)
        self._lock = threading.Lock()
        self._conn: Any = _connect(url, self.dialect)
        self.migrate([PROCESSED_EVENTS])

    def migrate(self, statements: Iterable[str]) -> None:
        """Apply idempotent DDL (``CREATE ... IF NOT EXISTS``); safe on every start."""
        with self.transaction() as tx:
            for statement in statements:
                tx.execute(statement)

    @contextmanager
    def transaction(self) -> Iterator[Tx]:
        """A transaction that commits when the block ends and rolls back if it raises."""
        with self._lock:
            if self.dialect == "sqlite":
                # IMMEDIATE takes the write lock up front: two worker processes sharing a
                # file then queue on busy_timeout instead of failing to upgrade a read lock.
                self._conn.execute("BEGIN IMMEDIATE")
                try:
                    yield Tx(self._conn, self.dialect)
                except BaseException:
                    self._conn.execute("ROLLBACK")
                    raise
                self._conn.execute("COMMIT")
            else:
                with self._conn.transaction():
                    yield Tx(self._conn, self.dialect)

    def close(self) -> None:
        with self._lock:
            self._conn.close()


def dialect_of(url: str) -> Dialect:
    scheme = urlsplit(url).scheme.split("+", 1)[0]
    if scheme == "sqlite":
        return "sqlite"
    if scheme in ("postgresql", "postgres"):
        return "postgresql"
    raise ValueError(f"unsupported store URL {url!r}: use sqlite:///path.db or postgresql://...")


def sqlite_path(url: str) -> str:
    """The file (or ``:memory:``) a ``sqlite:///...`` URL names."""
    prefix = "sqlite:///"
    if not url.startswith(prefix):
        raise ValueError(f"a SQLite store URL starts with {prefix}, got {url!r}")
    return url[len(prefix) :] or ":memory:"


def _connect(url: str, dialect: Dialect) -> Any:
    if dialect == "sqlite":
        path = sqlite_path(url)
        if path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        # Transactions are explicit (isolation_level=None); the connection is used from
        # handler threads, one at a time under Store's lock.
        conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False, timeout=30)
        conn.row_factory = sqlite3.Row
        if path != ":memory:":
            # WAL lets readers (operators, reports) run while a worker writes.
            conn.execute("PRAGMA journal_mode=WAL")
        return conn
    return psycopg.connect(url, autocommit=True, row_factory=dict_row)


def now_iso() -> str:
    """Now, UTC, as stored: ISO 8601 with milliseconds."""
    return datetime.now(UTC).isoformat(timespec="milliseconds")


def iso(value: datetime) -> str:
    """A timestamp as stored: UTC ISO 8601 with milliseconds, so text order is time order."""
    return value.astimezone(UTC).isoformat(timespec="milliseconds")


__all__ = ["PROCESSED_EVENTS", "Dialect", "Row", "Store", "Tx", "dialect_of", "iso", "now_iso"]
