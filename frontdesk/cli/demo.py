"""``frontdesk demo``: the whole story on the embedded broker; see ``producers/demo.py``."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from frontdesk.cli.common import console, fail, friendly_errors, settings
from frontdesk.naming import parse_duration_ms
from frontdesk.queues import QueueType

if TYPE_CHECKING:
    from producers.demo import DemoReport, Outcomes

_COLUMNS = ("produced", "handled", "fallback", "DLQ", "held", "unaccounted")
_LEGEND = (
    "handled: by its queue's deployment; fallback: diverted while its dependency was down, "
    "then handled by the fallback deployment; DLQ: dead-lettered (with the reasons below); "
    "held: parked behind a dead-lettered event of its key, until an operator acts; "
    "unaccounted: none of these (still on its way; 0 once the workers are done)."
)


def _outcomes_table(title: str, first: str, rows: list[tuple[str, Outcomes]]) -> Table:
    from producers.demo import Outcomes  # noqa: PLC0415 - the demo app is optional

    table = Table(title=title, show_edge=False, title_justify="left", show_footer=True)
    total = Outcomes()
    for _name, outcomes in rows:
        total.add(outcomes)
    table.add_column(first, footer="total")
    for column, sum_ in zip(_COLUMNS, total.row(), strict=True):
        table.add_column(column, justify="right", footer=str(sum_))
    for name, outcomes in rows:
        table.add_row(name, *(str(n) for n in outcomes.row()))
    return table


def print_report(report: DemoReport, timeout: float) -> None:
    """The demo's summary: every figure comes from the report, which measured it."""
    counts = report.counts
    books = report.reconcile()
    console.print(f"\n[bold]frontdesk demo[/] on {report.bootstrap} — {report.elapsed:.0f}s")
    console.print("Trouble injected on purpose:")
    for line in report.injected:
        console.print(f"  • {line}")
    console.print()
    order = [q.value for q in QueueType]
    by_queue = sorted(
        books.by_queue().items(),
        key=lambda kv: (order.index(kv[0]) if kv[0] in order else len(order), kv[0]),
    )
    console.print(_outcomes_table("What became of each event, per queue", "queue", by_queue))
    console.print()
    by_tenant = sorted(books.by_tenant().items())
    console.print(_outcomes_table("… and per tenant", "tenant", by_tenant))
    _prose(f"[dim]{_LEGEND}[/]")

    unaccounted = sum(o.unaccounted for o in books.cells.values())
    if unaccounted == 0:
        console.print("[green]Every produced event is accounted for.[/]")
    else:
        console.print(f"[yellow]{unaccounted} produced events are not accounted for yet.[/]")
    diverted = sum(books.diverted.values())
    if diverted:
        origins = ", ".join(f"{q} {n}" for q, n in sorted(books.diverted.items()))
        _prose(
            f"The fallback deployment received {diverted} diverted events ({origins}) and "
            f"handled or dead-lettered {sum(books.fallback_done.values())} of them."
        )
    tiers: dict[str, list[str]] = {}
    for (queue, tier), n in sorted(
        counts.retries.items(), key=lambda kv: (kv[0][0], parse_duration_ms(kv[0][1]))
    ):
        tiers.setdefault(queue, []).append(f"{tier}: {n}")
    if tiers:
        console.print(
            "Retries per tier: " + "; ".join(f"{q} {', '.join(t)}" for q, t in tiers.items())
        )

    reasons = Table(title="Dead letters by reason", show_edge=False, title_justify="left")
    reasons.add_column("queue")
    reasons.add_column("reason")
    reasons.add_column("events", justify="right")
    for (queue, reason), n in sorted(counts.dead_letters.items()):
        reasons.add_row(queue, reason, str(n))
    console.print()
    console.print(reasons)
    for held in report.held:
        console.print(
            f"Held key [bold]{held.key}[/] ({held.event_type} {held.stage}, "
            f"{held.parked} parked): waits for `frontdesk dlq redrive` or `release`"
        )
    console.print(f"\nThe fake OTA accepted {report.ota_pushes} pushes.")
    _print_messaging(report)
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


def _prose(text: str) -> None:
    """A paragraph, wrapped at words to the terminal's width (tables and commands are not
    wrapped at all: the console is soft-wrapping)."""
    console.print(text, soft_wrap=False)


def _print_messaging(report: DemoReport) -> None:
    m = report.messaging
    if m.requested == 0:
        console.print("No notification was requested in this traffic: no message was due.")
        return
    when = (
        f", the first {m.first_delivery_after:.1f}s after the outage began"
        if m.first_delivery_after is not None
        else ""
    )
    _prose(
        f"Notifications requested: {m.requested}. The messaging provider refused "
        f"{m.refused_during_outage} calls while it was down, then delivered {m.delivered} "
        f"messages{when}."
    )
    log = ", ".join(f"{n} {status}" for status, n in sorted(m.statuses.items())) or "empty"
    console.print(f"Message log: {log}.")
    if m.scheduled_due is not None:
        first, last = m.scheduled_due
        _prose(
            f"Scheduled for later: due from {first} to {last}; "
            "`python -m consumers.automation.due` sends them."
        )
    else:
        _prose(
            "None is scheduled for later: every send_at of the simulated traffic (which "
            "starts on 2025-06-01) has passed, so each message was due at once."
        )


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
    print_report(report, timeout)
    if not report.drained:
        raise typer.Exit(1)
