"""What every CLI command shares: settings, the admin client, and error reporting."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, NoReturn

import typer
from confluent_kafka import KafkaException
from confluent_kafka.admin import AdminClient
from rich.console import Console
from rich.table import Column, Table

from frontdesk.broker import BrokerError
from frontdesk.connection import NoClusterError, client_config
from frontdesk.settings import Settings
from frontdesk.topology import Topology, TopologyError, load_topology

# soft_wrap: a line longer than the terminal is never broken by rich, so an error's
# `file: line N` and a long topic name stay whole whatever the terminal width or path length.
console = Console(soft_wrap=True)
err_console = Console(stderr=True, soft_wrap=True)


def table(*headers: str | Column, **options: Any) -> Table:
    """A table readable at any terminal width: a cell too long for its column folds onto
    the next line instead of being cut with an ellipsis, so a topic name, a retry tier or a
    dead-letter id is always there in full (``--json`` is the form for scripts)."""
    columns = [h if isinstance(h, Column) else Column(h) for h in headers]
    for column in columns:
        column.overflow = "fold"
    options.setdefault("show_edge", False)  # the outer frame costs 4 columns of text
    return Table(*columns, **options)


def fail(message: str, code: int = 1) -> NoReturn:
    err_console.print(f"[bold red]error:[/] {message}", highlight=False)
    raise typer.Exit(code)


@contextmanager
def friendly_errors() -> Iterator[None]:
    """Turn the product's expected failures into one clear line and a non-zero exit."""
    try:
        yield
    except (BrokerError, NoClusterError, TopologyError) as exc:
        fail(str(exc))
    except KafkaException as exc:
        fail(f"Kafka refused the request: {exc.args[0] if exc.args else exc}")


def settings() -> Settings:
    return Settings()


def admin_client(conf: Settings | None = None) -> AdminClient:
    return AdminClient(client_config(conf))


def topology(conf: Settings | None = None) -> Topology:
    return load_topology((conf or settings()).topology)
