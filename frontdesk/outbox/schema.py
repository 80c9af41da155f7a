"""The outbox table, in the two dialects we support.

`seq` is the publication order. SQLite has one writer at a time, so `seq` order is commit
order. PostgreSQL hands out identity values before commit, so two concurrent transactions
can commit out of `seq` order; `Outbox.add` therefore takes a transaction-scoped advisory
lock on the event's key, which makes writers of one property commit in `seq` order (writers
of different properties never wait for each other). The relay selects by `sent_at IS NULL`,
never by "seq above the last one seen", so a row that commits late is still published.
"""

from __future__ import annotations

import re

DEFAULT_TABLE = "frontdesk_outbox"
_IDENTIFIER = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")


def table_name(name: str) -> str:
    """Refuse anything but a plain lower-case identifier: it is spliced into SQL."""
    if not _IDENTIFIER.fullmatch(name):
        raise ValueError(f"invalid outbox table name {name!r}: use [a-z_][a-z0-9_]*")
    return name


def sqlite_ddl(table: str) -> list[str]:
    table = table_name(table)
    return [
        f"""CREATE TABLE IF NOT EXISTS {table} (
            seq INTEGER PRIMARY KEY AUTOINCREMENT,
            event_id TEXT NOT NULL UNIQUE,
            event_type TEXT NOT NULL,
            tenant_id TEXT NOT NULL,
            topic TEXT NOT NULL,
            key TEXT NOT NULL,
            value BLOB NOT NULL,
            headers TEXT NOT NULL,
            created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
            sent_at TEXT
        )""",
        # AUTOINCREMENT: a seq is never reused, even after the newest rows are deleted.
        f"CREATE INDEX IF NOT EXISTS {table}_unsent ON {table} (seq) WHERE sent_at IS NULL",
    ]


def postgres_ddl(table: str) -> list[str]:
    table = table_name(table)
    return [
        f"""CREATE TABLE IF NOT EXISTS {table} (
            seq BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
            event_id UUID NOT NULL UNIQUE,
            event_type TEXT NOT NULL,
            tenant_id TEXT NOT NULL,
            topic TEXT NOT NULL,
            key TEXT NOT NULL,
            value BYTEA NOT NULL,
            headers JSONB NOT NULL,
            created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
            sent_at TIMESTAMPTZ
        )""",
        # Partial index: the relay's scan touches only what is still to publish.
        f"CREATE INDEX IF NOT EXISTS {table}_unsent ON {table} (seq) WHERE sent_at IS NULL",
    ]


__all__ = ["DEFAULT_TABLE", "postgres_ddl", "sqlite_ddl", "table_name"]
