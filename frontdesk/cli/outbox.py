"""``frontdesk outbox init|relay|status --db URL``: the transactional outbox's operations."""

from __future__ import annotations

import logging
from typing import Annotated

import typer

from frontdesk.cli.common import console, fail, friendly_errors
from frontdesk.errors import DeliveryError
from frontdesk.outbox import DEFAULT_TABLE, Relay, open_store
from frontdesk.trace_export import TracingConfigError

app = typer.Typer(help="Transactional outbox: create the table, run the relay, show backlog.")

Db = Annotated[str, typer.Option("--db", help="sqlite:///path.db or postgresql://...")]
Table = Annotated[str, typer.Option("--table", help="Outbox table name.")]


@app.command()
def init(db: Db, table: Table = DEFAULT_TABLE) -> None:
    """Create the outbox table (idempotent)."""
    store = open_store(db, table)
    try:
        store.create_table()
    finally:
        store.close()
    console.print(f"outbox table [bold]{table}[/] ready")


@app.command()
def status(db: Db, table: Table = DEFAULT_TABLE) -> None:
    """How many events wait to be published."""
    store = open_store(db, table)
    try:
        console.print(f"{store.count_unsent()} events unsent in {table}")
    finally:
        store.close()


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
    store = open_store(db, table)
    with friendly_errors():
        try:
            runner = Relay(
                store, on_batch=lambda n: console.print(f"published {n}"), health_port=health_port
            )
        except (TracingConfigError, OSError) as exc:
            store.close()
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
