"""The ``frontdesk`` command. Each group lives in its own module beside this one."""

from __future__ import annotations

import typer

from frontdesk.cli import (
    bench,
    broker,
    cluster,
    console,
    dlq,
    lag,
    outbox,
    replay,
    schemas,
    topics,
)
from frontdesk.cli.demo import demo
from frontdesk.cli.produce import produce
from frontdesk.cli.simulate import simulate
from frontdesk.cli.worker import worker

app = typer.Typer(
    name="frontdesk",
    help="The Kafka event backbone for multi-tenant Property Management Systems.",
    no_args_is_help=True,
    pretty_exceptions_show_locals=False,
)
app.add_typer(broker.app, name="broker")
app.add_typer(cluster.app, name="cluster")
app.add_typer(topics.app, name="topics")
app.add_typer(schemas.app, name="schemas")
app.add_typer(bench.app, name="bench")
app.add_typer(replay.app, name="replay")
app.add_typer(lag.app, name="lag")
app.add_typer(dlq.app, name="dlq")
app.add_typer(outbox.app, name="outbox")
app.command()(produce)
app.command()(simulate)
app.command()(worker)
app.command()(demo)
app.add_typer(console.app, name="console")
