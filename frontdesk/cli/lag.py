"""``frontdesk lag``: how far behind each consumer group is, per partition and per tenant.

Reads the topology only to recognise queue and tenant topics (its namespace); without a
topology file the numbers are the same, topics are just not labelled with their queue.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Annotated

import typer
from rich.console import Group
from rich.live import Live
from rich.markup import escape
from rich.table import Table

from frontdesk.cli.common import console, fail, friendly_errors, settings, table
from frontdesk.connection import client_config
from frontdesk.isolated import Isolated, IsolatedProcessDied
from frontdesk.lag import (
    SAMPLE,
    GroupLag,
    LagReport,
    LagUnavailableError,
    PartitionLag,
    measure_lag_of,
)
from frontdesk.naming import parse_topic
from frontdesk.topology import TopologyError, load_topology

app = typer.Typer(help="Consumer lag per group, queue, partition and tenant.")


def _namespace() -> str | None:
    try:
        return load_topology(settings().topology).namespace
    except TopologyError:
        return None


def _age(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    s = int(seconds)
    if s < 60:
        return f"{seconds:.1f}s"
    if s < 3600:
        return f"{s // 60}m{s % 60:02d}s"
    if s < 86400:
        return f"{s // 3600}h{s % 3600 // 60:02d}m"
    return f"{s // 86400}d{s % 86400 // 3600:02d}h"


def _where(p: PartitionLag, namespace: str | None) -> tuple[str, str]:
    """(main topic, tier) of a partition's topic: ``retry 10s`` rather than a long name cut
    at the terminal's edge. The namespace prefix is left out (the footer names it)."""
    info = parse_topic(p.topic, namespace)
    if info is None and namespace is None:
        # No topology to name the namespace: take the first prefix under which the rest is
        # one of our topic names (``demo-1.pms.sync.retry.2s``).
        cuts = (i for i, c in enumerate(p.topic) if c == ".")
        info = next((t for i in cuts if (t := parse_topic(p.topic, p.topic[:i]))), None)
    if info is None:
        return p.topic, "-"
    main = info.main.removeprefix(f"{info.namespace}.") if info.namespace else info.main
    tier = f"retry {info.delay}" if info.role == "retry" else info.role
    return main, tier


def _tables(group: GroupLag, *, all_partitions: bool, namespace: str | None) -> list[Table]:
    title = (
        f"[bold]{escape(group.group)}[/] ({group.state}, {group.members} member(s)): lag "
        f"{group.lag}, oldest {_age(group.oldest_age_seconds)}"
    )
    parts = table("topic", "tier", "p", "committed", "end", "lag", "oldest", title=title)
    for p in group.partitions:
        if p.lag or all_partitions:
            committed = "-" if p.committed is None else str(p.committed)
            parts.add_row(
                *_where(p, namespace),
                str(p.partition),
                committed,
                str(p.end),
                str(p.lag),
                _age(p.oldest_age_seconds),
            )
    tenants = table("queue", "tenant", "lag", "", title=f"{escape(group.group)} by tenant")
    for t in group.tenants:
        tenants.add_row(t.queue or "-", t.tenant, str(t.lag), "" if t.exact else "~ sampled")
    tables = [parts, tenants] if group.tenants else [parts]
    if group.halted:
        halted = Table(
            "tenant", "worker", "since", "why", title=f"[red]{group.group}: HALTED tenants[/]"
        )
        for h in group.halted:
            halted.add_row(h.tenant, h.worker, f"{h.since_time:%Y-%m-%d %H:%M:%S}", h.reason)
        tables.append(halted)
    return tables


def _render(report: LagReport, *, all_partitions: bool, namespace: str | None = None) -> Group:
    tables = [
        t
        for g in report.groups
        for t in _tables(g, all_partitions=all_partitions, namespace=namespace)
    ]
    footer = f"[dim]{report.taken_at:%H:%M:%S} UTC; pooled tenants sampled up to {report.sample}"
    if namespace:
        footer += f"; topics in namespace {escape(namespace)}"
    return Group(*tables, footer) if tables else Group("no consumer groups with offsets")


@app.callback(invoke_without_command=True)
def lag(
    *,
    group: Annotated[
        list[str] | None, typer.Option("--group", "-g", help="Only this group (repeatable).")
    ] = None,
    watch: Annotated[bool, typer.Option("--watch", "-w", help="Refresh until Ctrl-C.")] = False,
    interval: Annotated[float, typer.Option(help="Seconds between refreshes.", min=0.5)] = 5.0,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON document.")] = False,
    sample: Annotated[
        int, typer.Option(help="Waiting records read per pooled partition for tenants.", min=1)
    ] = SAMPLE,
    all_partitions: Annotated[
        bool, typer.Option("--all", help="Also partitions with no lag.")
    ] = False,
) -> None:
    """Committed offset, end offset, lag and age of the oldest waiting event."""
    with friendly_errors():
        conf, namespace = client_config(settings()), _namespace()
    # In a child process: a librdkafka abort while the broker is away (Finding 8 in
    # docs/reliability.md) must not end a `--watch` that has run for hours.
    measurer = Isolated()

    def measure() -> LagReport:
        return measurer.call(
            measure_lag_of, conf, group or None, namespace=namespace, sample=sample
        )

    try:
        if watch and not as_json:
            _watch(measure, interval=interval, all_partitions=all_partitions, namespace=namespace)
        elif as_json:
            # Plain stdout, not rich: the document must stay parseable when piped.
            typer.echo(json.dumps(measure().to_dict(), indent=2))
        else:
            console.print(_render(measure(), all_partitions=all_partitions, namespace=namespace))
    except (LagUnavailableError, IsolatedProcessDied) as exc:
        fail(str(exc))
    finally:
        measurer.close()


def _watch(
    measure: Callable[[], LagReport],
    *,
    interval: float,
    all_partitions: bool,
    namespace: str | None,
) -> None:
    with Live(console=console, auto_refresh=False) as live:
        try:
            while True:
                try:
                    view = _render(measure(), all_partitions=all_partitions, namespace=namespace)
                except (LagUnavailableError, IsolatedProcessDied) as exc:
                    view = Group(f"[yellow]{escape(str(exc))}[/]; retrying")
                live.update(view, refresh=True)
                time.sleep(interval)
        except KeyboardInterrupt:
            pass
