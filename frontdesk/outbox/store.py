"""The relay's side of the outbox table: read unsent rows in order, mark them sent.

One store per database URL: `sqlite:///abs/path.db` (or `sqlite:relative.db`) and
`postgresql://user@host:port/db`. Only one relay may publish a table at a time, or two
would interleave and reorder a property's events: PostgreSQL relays hold a session
advisory lock, SQLite relays an exclusive lock on a file beside the database.
"""

from __future__ import annotations

import fcntl
import json
import os
import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from frontdesk.outbox.schema import DEFAULT_TABLE, postgres_ddl, sqlite_ddl, table_name


@dataclass(frozen=True, slots=True)
class OutboxRow:
    seq: int
    event_id: str
    topic: str
    key: bytes
    value: bytes
    headers: list[tuple[str, bytes]]


class OutboxStore(Protocol):
    def create_table(self) -> None: ...
    def try_lock(self) -> bool: ...
    def fetch_unsent(self, limit: int) -> list[OutboxRow]: ...
    def mark_sent(self, seqs: Sequence[int]) -> None: ...
    def count_unsent(self) -> int: ...
    def close(self) -> None: ...


def _row(row: tuple[Any, ...]) -> OutboxRow:
    seq, event_id, topic, key, value, headers = row
    if isinstance(headers, str):  # SQLite keeps JSON as text; psycopg decodes JSONB
        headers = json.loads(headers)
    return OutboxRow(
        seq,
        str(event_id),
        topic,
        key.encode(),
        bytes(value),
        [(name, str(text).encode()) for name, text in headers.items()],
    )


_SELECT = "SELECT seq, event_id, topic, key, value, headers FROM {t} WHERE sent_at IS NULL"


class SqliteStore:
    def __init__(self, path: Path, table: str = DEFAULT_TABLE) -> None:
        self.path = path
        self.table = table_name(table)
        # Wait for the PMS's write transactions instead of failing with "database is locked".
        self.conn = sqlite3.connect(path, timeout=30.0, isolation_level=None)
        self._lock_fd: int | None = None

    def create_table(self) -> None:
        for statement in sqlite_ddl(self.table):
            self.conn.execute(statement)

    def try_lock(self) -> bool:
        fd = os.open(f"{self.path}.relay-lock", os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            return False
        self._lock_fd = fd
        return True

    def fetch_unsent(self, limit: int) -> list[OutboxRow]:
        query = _SELECT.format(t=self.table) + " ORDER BY seq LIMIT ?"
        return [_row(r) for r in self.conn.execute(query, (limit,))]

    def mark_sent(self, seqs: Sequence[int]) -> None:
        now = "strftime('%Y-%m-%dT%H:%M:%fZ', 'now')"
        with self.conn:  # one transaction: the whole batch is marked, or none of it
            self.conn.execute("BEGIN IMMEDIATE")
            self.conn.executemany(
                f"UPDATE {self.table} SET sent_at = {now} WHERE seq = ?", [(s,) for s in seqs]
            )

    def count_unsent(self) -> int:
        query = f"SELECT count(*) FROM {self.table} WHERE sent_at IS NULL"
        return int(self.conn.execute(query).fetchone()[0])

    def close(self) -> None:
        self.conn.close()
        if self._lock_fd is not None:
            os.close(self._lock_fd)
            self._lock_fd = None


class PostgresStore:
    def __init__(self, dsn: str, table: str = DEFAULT_TABLE) -> None:
        import psycopg  # noqa: PLC0415 - only PostgreSQL relays need the driver loaded

        self.table = table_name(table)
        self.conn = psycopg.connect(dsn, autocommit=True)

    def create_table(self) -> None:
        for statement in postgres_ddl(self.table):
            self.conn.execute(statement)

    def try_lock(self) -> bool:
        # Session-level: held for the relay's lifetime, freed by the server if it dies.
        row = self.conn.execute(
            "SELECT pg_try_advisory_lock(hashtextextended(%s, 0))", (f"relay:{self.table}",)
        ).fetchone()
        return bool(row and row[0])

    def fetch_unsent(self, limit: int) -> list[OutboxRow]:
        query = _SELECT.format(t=self.table) + " ORDER BY seq LIMIT %s"
        return [_row(r) for r in self.conn.execute(query, (limit,))]

    def mark_sent(self, seqs: Sequence[int]) -> None:
        # By exact seq, never a range: a row inside the range may have committed after the
        # batch was read and is not published yet.
        self.conn.execute(
            f"UPDATE {self.table} SET sent_at = now() WHERE seq = ANY(%s)", (list(seqs),)
        )

    def count_unsent(self) -> int:
        row = self.conn.execute(f"SELECT count(*) FROM {self.table} WHERE sent_at IS NULL")
        result = row.fetchone()
        return int(result[0]) if result else 0

    def close(self) -> None:
        self.conn.close()


def open_store(url: str, table: str = DEFAULT_TABLE) -> OutboxStore:
    """The store for a database URL (see the module docstring)."""
    if url.startswith(("postgresql://", "postgres://")):
        return PostgresStore(url, table)
    if url.startswith("sqlite:"):
        rest = url[len("sqlite:") :]
        path = "/" + rest.lstrip("/") if rest.startswith("//") else rest
        return SqliteStore(Path(path), table)
    raise ValueError(f"unsupported outbox database URL {url!r}: use sqlite:/// or postgresql://")


def database_errors() -> tuple[type[Exception], ...]:
    """The drivers' error classes, for callers that turn them into one clear line (the
    PostgreSQL driver is imported only here and by `PostgresStore`, not at module load)."""
    import psycopg  # noqa: PLC0415 - see above

    return (sqlite3.Error, psycopg.Error)


__all__ = [
    "OutboxRow",
    "OutboxStore",
    "PostgresStore",
    "SqliteStore",
    "database_errors",
    "open_store",
]
