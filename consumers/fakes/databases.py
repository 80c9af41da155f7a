"""Throwaway store URLs for tests: a SQLite file, or a fresh schema in a PostgreSQL server."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from urllib.parse import quote

import psycopg


@contextmanager
def postgres_schema(dsn: str) -> Iterator[str]:
    """A store URL whose tables land in a new schema of ``dsn``, dropped afterwards.

    One schema per test keeps tests apart on one server without creating databases.
    """
    schema = f"t_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    separator = "&" if "?" in dsn else "?"
    try:
        yield f"{dsn}{separator}options={quote(f'-csearch_path={schema}')}"
    finally:
        with psycopg.connect(dsn, autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA "{schema}" CASCADE')


__all__ = ["postgres_schema"]
