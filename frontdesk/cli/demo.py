"""``frontdesk demo``: the whole story on the embedded broker; see ``producers/demo.py``."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from frontdesk.cli.common import console, fail, friendly_errors, settings


def demo(
    events: Annotated[int, typer.Option(help="Simulated PMS events to send.")] = 2000,
    seed: Annotated[int, typer.Option(help="Same seed, same traffic.")] = 7,
    timeout: Annotated[float, typer.Option(help="Seconds to wait for the workers.")] = 180.0,
) -> None:
    """Broker, topology, four worker deployments, PMS traffic with trouble, and a summary."""
    try:
        from producers.demo import DemoOptions, run_demo  # noqa: PLC0415
    except ImportError:
        fail("the demo app (producers/) is not installed here; run from the repository")
    options = DemoOptions(events=events, seed=seed, timeout=timeout)
    with friendly_errors(), console.status("starting") as status:
        report = run_demo(options, settings(), say=status.update)
    counts = report.counts

    console.print(f"\n[bold]frontdesk demo[/] on {report.bootstrap} — {report.elapsed:.0f}s")
    console.print("Trouble injected on purpose:")
    for line in report.injected:
        console.print(f"  • {line}")

    queues = Table(title="per queue", show_edge=False)
    for column in ("queue", "produced", "handled", "failures", "retries", "DLQ", "diverted"):
        queues.add_column(column, justify="left" if column == "queue" else "right")
    for queue in ("operational", "automation", "sync", "fallback"):
        tiers = {t: n for (q, t), n in counts.retries.items() if q == queue}
        queues.add_row(
            queue,
            str(sum(n for (q, _t), n in report.produced.items() if q == queue)),
            str(sum(n for (q, _t), n in counts.handled.items() if q == queue)),
            str(counts.failed_attempts[queue]),
            ", ".join(f"{t}: {n}" for t, n in sorted(tiers.items())) or "0",
            str(sum(n for (q, _r), n in counts.dead_letters.items() if q == queue)),
            str(counts.diverted[queue]),
        )
    console.print(queues)

    tenants = Table(title="per tenant", show_edge=False)
    for column in ("tenant", "produced", "handled"):
        tenants.add_column(column, justify="left" if column == "tenant" else "right")
    for tenant in sorted({t for (_q, t) in report.produced}):
        tenants.add_row(
            tenant,
            str(sum(n for (_q, t), n in report.produced.items() if t == tenant)),
            str(sum(n for (_q, t), n in counts.handled.items() if t == tenant)),
        )
    console.print(tenants)

    reasons = Table(title="dead letters by reason", show_edge=False)
    reasons.add_column("queue")
    reasons.add_column("reason")
    reasons.add_column("events", justify="right")
    for (queue, reason), n in sorted(counts.dead_letters.items()):
        reasons.add_row(queue, reason, str(n))
    console.print(reasons)
    for held in report.held:
        console.print(
            f"Held key [bold]{held.key}[/] ({held.event_type} {held.stage}, "
            f"{held.parked} parked): waits for `frontdesk dlq redrive` or `release`"
        )
    console.print(
        f"The fake OTA accepted {report.ota_pushes} pushes; the messaging provider delivered "
        f"{report.messages_sent} messages."
    )
    if not report.drained:
        console.print(f"[yellow]Not finished within {timeout:.0f}s:[/] pending {report.pending}")
    console.print(
        "\nThe broker keeps running. Review what happened with this run's topology:\n"
        f"  export FRONTDESK_TOPOLOGY={report.topology_file}\n"
        "  frontdesk dlq list     # the dead letters, with their reasons\n"
        "  frontdesk lag          # every group at the end of its topics\n"
        "  frontdesk console      # the review console (add a user first: see docs)\n"
        "  frontdesk broker stop  # when done"
    )
    if not report.drained:
        raise typer.Exit(1)
