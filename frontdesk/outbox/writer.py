"""`Outbox.add`: write an event into the PMS's own transaction instead of sending it.

The row commits or rolls back with the business change, so a booking can never exist
without its event (or the reverse), and Kafka being down costs the PMS nothing: the relay
publishes later. The stored bytes, topic, key and headers are exactly what a direct
`Producer.send` would have produced (same `Router`), plus the caller's trace context.
"""

from __future__ import annotations

import json
import sqlite3
from typing import Any

from opentelemetry import propagate, trace

from frontdesk.codec import Codec, default_codec
from frontdesk.events import Event
from frontdesk.outbox.schema import DEFAULT_TABLE, postgres_ddl, sqlite_ddl, table_name
from frontdesk.producer.routing import Router
from frontdesk.settings import Settings
from frontdesk.topology import Topology, load_topology


def is_sqlite(conn: Any) -> bool:
    return isinstance(conn, sqlite3.Connection | sqlite3.Cursor)


def _is_psycopg(conn: Any) -> bool:
    return type(conn).__module__.startswith("psycopg")


class Outbox:
    """Adds events to the outbox table through the caller's connection or cursor."""

    def __init__(
        self,
        topology: Topology | None = None,
        *,
        codec: Codec | None = None,
        table: str = DEFAULT_TABLE,
        settings: Settings | None = None,
    ) -> None:
        if topology is None:
            topology = load_topology((settings or Settings()).topology)
        self.router = Router(topology, codec or default_codec())
        self.table = table_name(table)
        self._sqlite_insert = (
            f"INSERT INTO {self.table} (event_id, event_type, tenant_id, topic, key, value, "
            "headers) VALUES (?, ?, ?, ?, ?, ?, ?)"
        )
        self._pg_insert = self._sqlite_insert.replace("?", "%s")

    def add(self, conn: Any, event: Event) -> None:
        """Store `event` in the current transaction of `conn` (a connection or a cursor).

        sqlite3 and psycopg 3 connections and cursors are accepted. The caller commits.
        Raises `EventValidationError` for an unfit event, like `Producer.send`.
        """
        record = self.router.prepare(event)
        headers = {name: value.decode() for name, value in record.headers}
        if trace.get_current_span().get_span_context().is_valid:
            propagate.inject(headers)  # the PMS request's trace continues through the relay
        key = record.key.decode()
        row = (
            record.event_id,
            event.event_type,
            event.meta.tenant_id,
            record.topic,
            key,
            record.value,
            json.dumps(headers),
        )
        if is_sqlite(conn):
            conn.execute(self._sqlite_insert, row)
        elif _is_psycopg(conn):
            # Writers of one property commit in seq order (see frontdesk.outbox.schema).
            conn.execute("SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))", (key,))
            conn.execute(self._pg_insert, row)
        else:
            raise TypeError(
                f"unsupported connection {type(conn).__name__}: use sqlite3 or psycopg 3"
            )

    def create_table(self, conn: Any) -> None:
        """Create the outbox table and its index if missing (the caller commits)."""
        statements = sqlite_ddl(self.table) if is_sqlite(conn) else postgres_ddl(self.table)
        for statement in statements:
            conn.execute(statement)


__all__ = ["Outbox", "is_sqlite"]
