"""``frontdesk simulate``: realistic PMS traffic into the configured cluster, reproducibly.

Either a fixed number of events (``--events``) or a paced stream (``--rate`` events/s for
``--duration`` seconds). Returns only when every event is confirmed, then prints a summary.
"""

from __future__ import annotations

from typing import Annotated

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeRemainingColumn
from rich.table import Table

from frontdesk.cli.common import console, fail, friendly_errors, settings, topology
from frontdesk.errors import DeliveryError


def simulate(
    *,
    tenants: Annotated[int, typer.Option(help="Tenants: the topology's, then generated.")] = 3,
    properties: Annotated[int, typer.Option(help="Properties per tenant.")] = 5,
    events: Annotated[int | None, typer.Option(help="How many events to send.")] = 1000,
    seed: Annotated[int, typer.Option(help="Same seed, same events.")] = 42,
    rate: Annotated[float | None, typer.Option(help="Events per second (paced).")] = None,
    duration: Annotated[float | None, typer.Option(help="Seconds to run with --rate.")] = None,
) -> None:
    """Send simulated PMS events; print counts per type, queue and tenant, and the rate."""
    try:
        from producers.simulator import Simulation, run, tenant_ids  # noqa: PLC0415
    except ImportError:
        fail("the simulator app (producers/) is not installed here; run from the repository")
    from frontdesk.producer import Producer  # noqa: PLC0415 - keep `--help` fast

    if rate is not None and duration is None:
        fail("--rate needs --duration")
    count = None if duration is not None else events
    conf = settings()
    with friendly_errors():
        topo = topology(conf)
        sim = Simulation(tenant_ids(topo, tenants), properties, seed)
        progress = Progress(
            "[progress.description]{task.description}",
            BarColumn(),
            MofNCompleteColumn(),
            TimeRemainingColumn(),
            console=console,
        )
        total = count if count is not None else int((rate or 0) * (duration or 0)) or None
        try:
            with Producer(conf, topology=topo) as producer, progress:
                task = progress.add_task("sending", total=total)
                summary = run(
                    producer,
                    sim.events(count),
                    rate=rate,
                    duration=duration,
                    on_sent=lambda _e: progress.advance(task),
                )
                progress.update(task, description="confirmed")
        except DeliveryError as exc:
            fail(str(exc))
    console.print(
        f"[green]{summary.total} events confirmed[/] in {summary.elapsed:.1f}s "
        f"({summary.rate:,.0f}/s, seed {seed})"
    )
    for title, counts in (
        ("event type", summary.by_type),
        ("queue", summary.by_queue),
        ("tenant", summary.by_tenant),
    ):
        table = Table(title=f"per {title}", show_edge=False)
        table.add_column(title)
        table.add_column("events", justify="right")
        for name, n in counts.most_common():
            table.add_row(name, str(n))
        console.print(table)
