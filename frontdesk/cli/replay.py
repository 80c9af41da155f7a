"""``frontdesk replay``: events of a queue or topics in a time range into JSONL or Parquet;
``frontdesk replay rewind``: move a sandbox consumer group to a point in time.

JSONL goes to stdout unless ``--output`` names a file, so it pipes into ``jq``; the progress
bar and the summary go to stderr for the same reason.
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
from collections.abc import Iterator
from datetime import datetime
from enum import StrEnum
from pathlib import Path
from typing import IO, Annotated

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from frontdesk.cli.common import (
    admin_client,
    console,
    err_console,
    fail,
    friendly_errors,
    settings,
    table,
    topology,
)
from frontdesk.connection import client_config
from frontdesk.queues import QueueType
from frontdesk.replay import (
    SANDBOX_PREFIX,
    RawWriter,
    Replay,
    ReplayQuery,
    ReplayStats,
    RewindRefused,
    parse_time,
    queue_topics,
    rewind_group,
    write_jsonl,
    write_parquet,
)
from frontdesk.replay.sinks import BATCH_ROWS

app = typer.Typer(
    help="Replay events for analysis, or rewind a sandbox consumer group.",
    invoke_without_command=True,
)


class Format(StrEnum):
    JSONL = "jsonl"
    PARQUET = "parquet"


QueueOpt = Annotated[
    QueueType | None,
    typer.Option("--queue", "-q", help="A queue: its pooled and dedicated topics."),
]
TopicOpt = Annotated[
    list[str] | None, typer.Option("--topic", "-t", help="An explicit topic (repeatable).")
]


def _topics(
    queue: QueueType | None, topic: list[str] | None, retry: bool = False, dlq: bool = False
) -> list[str]:
    topics = list(topic or [])
    if queue is not None:
        topics += queue_topics(topology(), queue, include_retry=retry, include_dlq=dlq)
    return topics


def _time(text: str | None, option: str) -> datetime | None:
    if text is None:
        return None
    try:
        return parse_time(text)
    except ValueError as exc:
        fail(f"{option}: {exc}", code=2)


@contextlib.contextmanager
def _output(path: Path | None) -> Iterator[IO[str]]:
    if path is None or str(path) == "-":
        yield sys.stdout
        return
    with path.open("w", encoding="utf-8") as out:
        yield out


@app.callback()
def replay(
    ctx: typer.Context,
    *,
    queue: QueueOpt = None,
    topic: TopicOpt = None,
    include_retry: Annotated[
        bool, typer.Option("--include-retry", help="Also the queue's retry tiers.")
    ] = False,
    include_dlq: Annotated[bool, typer.Option("--include-dlq", help="Also the DLQs.")] = False,
    since: Annotated[
        str | None, typer.Option(help="Start, inclusive: ISO-8601 (UTC if no zone) or 2h/7d ago.")
    ] = None,
    until: Annotated[
        str | None, typer.Option(help="End, exclusive; default: the end offsets at start.")
    ] = None,
    tenant: Annotated[
        list[str] | None, typer.Option("--tenant", help="Only this tenant (repeatable).")
    ] = None,
    event_type: Annotated[
        list[str] | None, typer.Option("--event-type", "-e", help="Only this type (repeatable).")
    ] = None,
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="File to write; JSONL to stdout if unset.")
    ] = None,
    fmt: Annotated[
        Format | None, typer.Option("--format", "-f", help="Default: from the file suffix.")
    ] = None,
    errors: Annotated[
        Path | None,
        typer.Option("--errors", help="Write undecodable records here (JSONL, base64 bytes)."),
    ] = None,
    batch_rows: Annotated[
        int, typer.Option(help="Rows per Parquet row group.", min=1)
    ] = BATCH_ROWS,
    progress: Annotated[bool, typer.Option(help="Show a progress bar on stderr.")] = True,
) -> None:
    """Replay a queue or topics into JSONL (stdout or file) or Parquet."""
    if ctx.invoked_subcommand is not None:
        return
    if queue is None and not topic:
        fail("name a --queue or at least one --topic", code=2)
    fmt = fmt or (Format.PARQUET if output and output.suffix == ".parquet" else Format.JSONL)
    if fmt is Format.PARQUET and (output is None or str(output) == "-"):
        fail("Parquet needs --output FILE", code=2)
    with friendly_errors():
        try:
            query = ReplayQuery(
                tuple(_topics(queue, topic, include_retry, include_dlq)),
                since=_time(since, "--since"),
                until=_time(until, "--until"),
                tenants=frozenset(tenant or ()),
                event_types=frozenset(event_type or ()),
            )
        except ValueError as exc:
            fail(str(exc), code=2)
        conf = client_config(settings())
        try:
            with contextlib.ExitStack() as stack:
                raw = stack.enter_context(errors.open("w", encoding="utf-8")) if errors else None
                bar = stack.enter_context(_progress(enabled=progress))
                task = bar.add_task("replaying", total=None)

                def on_progress(stats: ReplayStats) -> None:
                    bar.update(task, completed=stats.done, total=stats.total)

                run = Replay(
                    query,
                    conf,
                    on_undecodable=RawWriter(raw) if raw else None,
                    on_progress=on_progress,
                )
                run.plan()
                bar.update(task, total=run.stats.total)
                if fmt is Format.PARQUET:
                    assert output is not None
                    meta = {"frontdesk.replay": json.dumps(_describe(query))}
                    rows = write_parquet(run, output, batch_rows=batch_rows, metadata=meta)
                else:
                    try:
                        with _output(output) as out:
                            rows = write_jsonl(run, out)
                            out.flush()
                    except BrokenPipeError:
                        # The reader (head, a closed jq) has what it wanted: stop quietly, and
                        # point stdout at /dev/null so the interpreter's final flush is silent.
                        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
                        return
        except OSError as exc:  # BrokenPipeError is handled above; this is a file
            fail(f"cannot write {exc.filename or output}: {exc.strerror or exc}", code=2)
    _summary(run.stats, rows, output, errors)


def _progress(*, enabled: bool) -> Progress:
    return Progress(
        TextColumn("[progress.description]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err_console,
        disable=not enabled,
        transient=True,
    )


def _describe(query: ReplayQuery) -> dict[str, object]:
    return {
        "topics": list(query.topics),
        "since": query.since.isoformat() if query.since else None,
        "until": query.until.isoformat() if query.until else None,
        "tenants": sorted(query.tenants),
        "event_types": sorted(query.event_types),
    }


def _summary(stats: ReplayStats, rows: int, output: Path | None, errors: Path | None) -> None:
    where = output if output and str(output) != "-" else "stdout"
    err_console.print(
        f"[green]{rows}[/] event(s) to {where}; read {stats.read}, "
        f"filtered {stats.filtered} ({stats.filtered_by_header} by header alone)",
        highlight=False,
    )
    if stats.undecodable:
        reasons = ", ".join(f"{n} {r}" for r, n in sorted(stats.undecodable.items()))
        kept = f", written to {errors}" if errors else "; keep them with --errors FILE"
        err_console.print(
            f"[yellow]{stats.undecodable_total} undecodable[/] ({reasons}){kept}", highlight=False
        )


@app.command()
def rewind(
    *,
    group: Annotated[str, typer.Option("--group", "-g", help="The consumer group to move.")],
    to: Annotated[str, typer.Option("--to", help="ISO-8601 time (UTC if no zone) or 2h ago.")],
    queue: QueueOpt = None,
    topic: TopicOpt = None,
    force: Annotated[
        bool, typer.Option("--force", help="Allow a group that is not named as a sandbox.")
    ] = False,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Show, change nothing.")] = False,
    sandbox_prefix: Annotated[
        str,
        typer.Option(envvar="FRONTDESK_SANDBOX_PREFIX", help="Group ids that are sandboxes."),
    ] = SANDBOX_PREFIX,
) -> None:
    """Set a stopped group's committed offsets to the first record at or after --to.

    Topics default to those the group has committed offsets on.
    """
    when = _time(to, "--to")
    assert when is not None
    with friendly_errors():
        try:
            changes = rewind_group(
                admin_client(),
                group,
                when,
                _topics(queue, topic) or None,
                force=force,
                sandbox_prefix=sandbox_prefix,
                dry_run=dry_run,
            )
        except RewindRefused as exc:
            fail(str(exc), code=2)
    moved = table("topic", "partition", "from", "to", title=f"group {group}")
    for c in changes:
        before = "-" if c.previous is None else str(c.previous)
        moved.add_row(c.topic, str(c.partition), before, str(c.new))
    console.print(moved)
    console.print("dry run: nothing changed" if dry_run else f"[green]rewound[/] {group}")
