"""``frontdesk dlq list|show|redrive|release|purge|audit|held``: review dead letters.

Selection is the same for every command: ``--queue`` (its pooled and dedicated DLQs) or
``--topic``, or every DLQ of the topology; then header filters. Actions take dead-letter
ids, or a filter, or ``--all``; each needs ``--reason`` and writes the audit log. JSON goes
to stdout so it pipes into ``jq``; messages go to stderr.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import Annotated, Any

import typer
from rich.markup import escape

from frontdesk.cli.common import (
    console,
    err_console,
    fail,
    friendly_errors,
    settings,
    table,
    topology,
)
from frontdesk.connection import client_config
from frontdesk.dlq import (
    ActionResult,
    DeadLetter,
    DlqError,
    DlqFilter,
    DlqReview,
    StateRecord,
)
from frontdesk.dlq.actions import require_reason
from frontdesk.dlq.ids import DeadLetterId
from frontdesk.queues import QueueType
from frontdesk.replay.timing import parse_time

app = typer.Typer(help="Review dead letters: list, show, redrive, release, purge, audit.")

Queue = Annotated[
    list[QueueType] | None,
    typer.Option("--queue", "-q", help="A queue: the DLQs of its pooled and dedicated topics."),
]
Topic = Annotated[list[str] | None, typer.Option("--topic", "-t", help="A DLQ topic by name.")]
Tenant = Annotated[
    list[str] | None,
    typer.Option(
        "--tenant",
        help="A tenant: its dedicated DLQ's records, and any record naming it (key, "
        "fd-tenant or payload); disagreements are flagged as tenant mismatch.",
    ),
]
EventType = Annotated[list[str] | None, typer.Option("--event-type", help="Header fd-event-type.")]
ErrorClass = Annotated[
    list[str] | None, typer.Option("--error-class", help="Header fd-error-class (short or full).")
]
Reason = Annotated[
    list[str] | None, typer.Option("--reason-code", help="Header fd-reason (retries_exhausted...).")
]
Since = Annotated[str | None, typer.Option(help="Dead-lettered at or after (ISO-8601 or 2h).")]
Until = Annotated[str | None, typer.Option(help="Dead-lettered before (ISO-8601 or 30m).")]
Ids = Annotated[list[str] | None, typer.Argument(help="Dead-letter ids: topic:partition:offset.")]
Why = Annotated[str | None, typer.Option("--reason", "-r", help="Why (goes to the audit log).")]
Actor = Annotated[str | None, typer.Option(help="Who acts; defaults to $USER.")]
DryRun = Annotated[bool, typer.Option("--dry-run", help="Print what would happen; change nothing.")]
AsJson = Annotated[bool, typer.Option("--json", help="Print JSON.")]


def _review() -> DlqReview:
    return DlqReview(client_config(settings()), topology())


def _filter(
    *,
    tenant: list[str] | None,
    event_type: list[str] | None,
    error_class: list[str] | None = None,
    reason_code: list[str] | None = None,
    since: str | None = None,
    until: str | None = None,
) -> DlqFilter:
    try:
        return DlqFilter(
            tenants=frozenset(tenant or ()),
            event_types=frozenset(event_type or ()),
            error_classes=frozenset(error_class or ()),
            reasons=frozenset(reason_code or ()),
            since=parse_time(since) if since else None,
            until=parse_time(until) if until else None,
        )
    except ValueError as exc:
        fail(str(exc))


@contextmanager
def _errors() -> Iterator[None]:
    with friendly_errors():
        try:
            yield
        except (DlqError, ValueError) as exc:
            fail(str(exc))


_STATE_WORDS = {"redrive": "redriven", "discard": "discarded", "release": "released"}


def _tenant_cell(d: DeadLetter) -> str:
    """The owner (from a dedicated topic first), or the mismatch spelled out."""
    tenancy = d.tenancy
    if tenancy.mismatch:
        return f"MISMATCH ({tenancy.describe()})"
    return tenancy.owner or d.tenant or "-"


def _row(d: DeadLetter, state: StateRecord | None) -> list[str]:
    return [
        str(d.id),
        d.timestamp.strftime("%Y-%m-%d %H:%M:%S"),
        _tenant_cell(d),
        d.event_type or "-",
        d.reason or "-",
        (d.error_class or "-").rsplit(".", 1)[-1],
        str(d.attempt or "-"),
        _STATE_WORDS[state.action] if state else "open",
    ]


@app.command("list")
def list_(
    *,
    queue: Queue = None,
    topic: Topic = None,
    tenant: Tenant = None,
    event_type: EventType = None,
    error_class: ErrorClass = None,
    reason_code: Reason = None,
    since: Since = None,
    until: Until = None,
    all_: Annotated[bool, typer.Option("--all", help="Include handled dead letters.")] = False,
    as_json: AsJson = False,
    jsonl: Annotated[bool, typer.Option("--jsonl", help="One JSON object per line.")] = False,
    limit: Annotated[int | None, typer.Option(min=1, help="Print at most this many.")] = None,
) -> None:
    """Open dead letters (handled ones too with --all), sorted by id."""
    query = _filter(
        tenant=tenant,
        event_type=event_type,
        error_class=error_class,
        reason_code=reason_code,
        since=since,
        until=until,
    )
    with _errors():
        review = _review()
        state = review.state()
        found = review.dead_letters(
            review.topics(queue or (), topic or ()), query, include_handled=all_, state=state
        )[:limit]
    if as_json or jsonl:
        rows = [{**d.to_dict(), "state": _state_dict(state.get(d.id))} for d in found]
        if jsonl:
            for row in rows:
                typer.echo(json.dumps(row))
        else:
            _print_json(rows)
        return
    lines = [_row(d, state.get(d.id)) for d in found]
    if not console.is_terminal:
        # Piped: tab-separated, full width, for grep/cut/awk (the table would truncate).
        for line in lines:
            typer.echo("\t".join(line))
    else:
        # The id is what the other commands take: folded at a narrow width, never cut.
        headers = ("id", "dead-lettered", "tenant", "event type", "reason", "error", "try", "state")
        listing = table(*headers)
        for line in lines:
            listing.add_row(*(escape(c) for c in line))
        console.print(listing)
    err_console.print(f"{len(found)} dead letter(s)")


def _print_json(data: Any) -> None:
    typer.echo(json.dumps(data, indent=2))


def _print_table(columns: tuple[str, ...], rows: Iterable[tuple[str, ...]]) -> None:
    out = table(*columns)
    for cells in rows:
        out.add_row(*(escape(c) for c in cells))
    console.print(out)


def _state_dict(state: StateRecord | None) -> dict[str, Any] | None:
    if state is None:
        return None
    return {"action": state.action, "at": state.at, "actor": state.actor, "reason": state.reason}


@app.command()
def show(
    dead_letter_id: Annotated[str, typer.Argument(help="topic:partition:offset")],
    tenant: Annotated[
        str | None,
        typer.Option("--tenant", help="Refuse unless the dead letter is this tenant's alone."),
    ] = None,
    as_json: AsJson = False,
) -> None:
    """One dead letter: decoded payload (or raw bytes and the decode error), every header."""
    with _errors():
        review = _review()
        dl = review.get(dead_letter_id)
        if tenant is not None and not dl.owned_by(tenant):
            raise DlqError(f"{dl.id} is not tenant {tenant}'s alone ({dl.tenancy.describe()})")
        state = review.state().get(dl.id)
    data = {**dl.to_dict(), "state": _state_dict(state)}
    if as_json:
        _print_json(data)
        return
    console.print(f"[bold]{escape(str(dl.id))}[/]  {escape(str(_state_dict(state) or 'open'))}")
    if dl.tenancy.mismatch:
        console.print(f"[bold red]tenant mismatch:[/] {escape(dl.tenancy.describe())}")
    for name in ("timestamp", "key", "tenant", "event_type", "event_id", "reason", "trace_id"):
        console.print(f"  {name}: {escape(str(data[name]))}")
    console.print(f"  error: {escape(f'{dl.error_class}: {dl.error_message}')}")
    console.print("[bold]headers[/]")
    for key, value in data["headers"].items():
        if key != "fd-stack-trace":
            console.print(f"  {escape(key)}: {escape(str(value))}")
    if dl.stack_trace:
        console.print("[bold]stack trace[/]")
        console.print(escape(dl.stack_trace), highlight=False)
    if data["payload"] is not None:
        console.print(f"[bold]payload[/] (schema v{data['schema_version']})")
        console.print_json(json.dumps(data["payload"]))
    else:
        console.print(f"[bold]undecodable[/] ({escape(str(data['decode_error']))})")
        console.print(f"  hex: {data['value_hex']}")
        console.print(f"  base64: {data['value_base64']}")


def _need_reason(reason: str | None) -> None:
    """Refuse before reading anything: a long scan then a refusal wastes the operator's time."""
    try:
        require_reason(reason)
    except ValueError as exc:
        fail(f"{exc} (--reason)", code=2)


def _select(
    review: DlqReview, ids: list[str] | None, topics: list[str], query: DlqFilter, all_: bool
) -> list[DeadLetter]:
    return review.select(
        topics, ids=[DeadLetterId.parse(i) for i in ids or ()], query=query, all_=all_
    )


def _report(result: ActionResult, as_json: bool) -> None:
    if as_json:
        _print_json(result.to_dict())
        return
    verb = _STATE_WORDS[result.action]
    targets = {str(m.dead_letter.id): m.target for m in result.moves}
    for d in result.dead_letters:
        where = f" -> {targets[str(d.id)]}" if str(d.id) in targets else ""
        console.print(f"  {escape(str(d.id))}{escape(where)}", highlight=False)
    if result.dry_run:
        console.print(f"[yellow]dry run:[/] {len(result.dead_letters)} would be {verb}")
    else:
        audit = result.audit.audit_id if result.audit else "-"
        console.print(f"[green]{verb}[/] {len(result.dead_letters)} (audit {audit})")


@app.command()
def redrive(
    ids: Ids = None,
    *,
    queue: Queue = None,
    topic: Topic = None,
    tenant: Tenant = None,
    event_type: EventType = None,
    error_class: ErrorClass = None,
    reason_code: Reason = None,
    since: Since = None,
    until: Until = None,
    all_: Annotated[bool, typer.Option("--all", help="Every open dead letter selected.")] = False,
    to: Annotated[
        str | None,
        typer.Option(
            help="Another main or retry topic of the same queue and tenant (default: the main "
            "topic the DLQ belongs to)."
        ),
    ] = None,
    tenant_from_topic: Annotated[
        bool,
        typer.Option(
            "--tenant-from-topic",
            help="Redrive a tenant-mismatched dead letter as its dedicated topic's tenant.",
        ),
    ] = False,
    reason: Why = None,
    actor: Actor = None,
    dry_run: DryRun = False,
    as_json: AsJson = False,
) -> None:
    """Send dead letters back to the main topic of their DLQ (or --to), byte for byte."""
    _need_reason(reason)
    query = _filter(
        tenant=tenant,
        event_type=event_type,
        error_class=error_class,
        reason_code=reason_code,
        since=since,
        until=until,
    )
    with _errors():
        review = _review()
        chosen = _select(review, ids, review.topics(queue or (), topic or ()), query, all_)
        result = review.redrive(
            chosen,
            reason=reason,
            actor=actor,
            to=to,
            tenant_from_topic=tenant_from_topic,
            dry_run=dry_run,
        )
    _report(result, as_json)


@app.command()
def release(
    ids: Ids = None,
    *,
    queue: Queue = None,
    topic: Topic = None,
    tenant: Tenant = None,
    event_type: EventType = None,
    reason: Why = None,
    actor: Actor = None,
    dry_run: DryRun = False,
    as_json: AsJson = False,
) -> None:
    """Give up on ordered dead letters so the runtime lets their keys' parked events flow."""
    _need_reason(reason)
    query = _filter(tenant=tenant, event_type=event_type)
    with _errors():
        review = _review()
        chosen = _select(review, ids, review.topics(queue or (), topic or ()), query, False)
        result = review.release(chosen, reason=reason, actor=actor, dry_run=dry_run)
    _report(result, as_json)


@app.command()
def purge(
    ids: Ids = None,
    *,
    queue: Queue = None,
    topic: Topic = None,
    tenant: Tenant = None,
    event_type: EventType = None,
    error_class: ErrorClass = None,
    reason_code: Reason = None,
    since: Since = None,
    until: Until = None,
    all_: Annotated[bool, typer.Option("--all", help="Every open dead letter selected.")] = False,
    reason: Why = None,
    actor: Actor = None,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")] = False,
    dry_run: DryRun = False,
    as_json: AsJson = False,
) -> None:
    """Discard dead letters: mark them handled without redriving (records stay until retention)."""
    _need_reason(reason)
    query = _filter(
        tenant=tenant,
        event_type=event_type,
        error_class=error_class,
        reason_code=reason_code,
        since=since,
        until=until,
    )
    with _errors():
        review = _review()
        chosen = _select(review, ids, review.topics(queue or (), topic or ()), query, all_)
        plan = review.discard(chosen, reason=reason, actor=actor, dry_run=True)
        if dry_run or not chosen:
            _report(plan, as_json)
            return
        if not yes:
            tenants = sorted({d.tenancy.owner or "?" for d in chosen})
            typer.confirm(
                f"Discard {len(chosen)} dead letter(s) of tenant(s) {', '.join(tenants)}?",
                abort=True,
            )
        result = review.discard(chosen, reason=reason, actor=actor)
    _report(result, as_json)


@app.command()
def audit(
    last: Annotated[int, typer.Option(min=1, help="How many records, newest first.")] = 50,
    as_json: AsJson = False,
) -> None:
    """The audit log: who did what to which dead letters, when and why."""
    with _errors():
        trail = _review().audit(last)
    records, warning = trail.records, trail.warning()
    if warning:
        err_console.print(f"[yellow]warning:[/] {escape(warning)}", highlight=False)
    if as_json:
        _print_json([r.to_dict() for r in records])
        return
    _print_table(
        ("at", "actor", "action", "count", "tenants", "reason", "source"),
        (
            (r.at, r.actor, r.action, str(len(r.ids)), ",".join(r.tenants), r.reason, r.source)
            for r in records
        ),
    )


@app.command()
def held(
    tenant: Annotated[str | None, typer.Option("--tenant", help="Only this tenant's keys.")] = None,
    as_json: AsJson = False,
) -> None:
    """Keys of ordered event types held now, behind which event, with how much parked."""
    from frontdesk.worker.holds import held_keys  # noqa: PLC0415 - keeps `--help` fast

    with _errors():
        review = _review()
        found = held_keys(review.config, review.topology, tenant=tenant)
    if as_json:
        _print_json([h.to_dict() for h in found])
        return
    _print_table(
        ("key", "topic", "stage", "held by event", "parked", "since", "group"),
        (
            (h.key, h.topic, h.stage, h.event_id, str(h.parked), str(h.since), h.group)
            for h in found
        ),
    )
