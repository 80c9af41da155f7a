"""``frontdesk outbox init|relay|status --db URL``: the transactional outbox's operations."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated

import typer

from frontdesk.cli.common import console, fail, friendly_errors
from frontdesk.errors import DeliveryError
from frontdesk.outbox import DEFAULT_TABLE, OutboxStore, Relay, open_store
from frontdesk.outbox.store import database_errors
from frontdesk.trace_export import TracingConfigError

app = typer.Typer(help="Transactional outbox: create the table, run the relay, show backlog.")

Db = Annotated[str, typer.Option("--db", help="sqlite:///path.db or postgresql://...")]
Table = Annotated[str, typer.Option("--table", help="Outbox table name.")]


@contextmanager
def _store(db: str, table: str) -> Iterator[OutboxStore]:
    """The outbox store; a database that refuses (no table, no server, a bad URL) is one
    line naming the table and the likely fix, never a driver traceback."""
    try:
        store = open_store(db, table)
    except ValueError as exc:
        fail(str(exc))
    except database_errors() as exc:
        fail(f"cannot open the outbox database {db!r}: {exc}".strip())
    try:
        yield store
    except database_errors() as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        fail(
            f"the outbox database refused: {first} (table {table!r}; "
            f"`frontdesk outbox init --db ... --table {table}` creates it)"
        )
    finally:
        store.close()


@app.command()
def init(db: Db, table: Table = DEFAULT_TABLE) -> None:
    """Create the outbox table (idempotent)."""
    with _store(db, table) as store:
        store.create_table()
    console.print(f"outbox table [bold]{table}[/] ready")


@app.command()
def status(db: Db, table: Table = DEFAULT_TABLE) -> None:
    """How many events wait to be published."""
    with _store(db, table) as store:
        console.print(f"{store.count_unsent()} events unsent in {table}")


@app.command()
def relay(
    db: Db,
    table: Table = DEFAULT_TABLE,
    batch_size: Annotated[int, typer.Option(help="Rows per publish-and-mark round.")] = 500,
    until_empty: Annotated[bool, typer.Option(help="Exit once nothing is left.")] = False,
    health_port: Annotated[
        int | None, typer.Option(help="Serve /healthz and /readyz on this port.")
    ] = None,
) -> None:
    """Publish unsent rows in order, marking each batch sent once Kafka confirmed it."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    with friendly_errors(), _store(db, table) as store:
        try:
            runner = Relay(
                store, on_batch=lambda n: console.print(f"published {n}"), health_port=health_port
            )
        except (TracingConfigError, OSError) as exc:
            fail(str(exc))
        try:
            stats = runner.run(until_empty=until_empty)
        except DeliveryError as exc:
            fail(str(exc), code=2)
        except KeyboardInterrupt:
            stats = runner.stats
        finally:
            runner.close()
    console.print(f"published {stats.published} events in {stats.batches} batches")
