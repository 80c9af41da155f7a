"""The worker app every reliability scenario runs in subprocesses:
``frontdesk worker tests.reliability.app:app [--processes N]``.

Each event names its own fate in its reference (``booking_id`` / ``request_id``), written
``<kind>.<key index>.<seq>`` by `tests.reliability.stream`:

* ``ok``: handled at once;
* ``flaky``: the first attempt fails with a retryable error (a deterministic 5 %);
* ``dep``: depends on a fake downstream system (an OTA); while the flag file named by
  ``FD_REL_DEP_DOWN`` exists, the dependency is down and the attempt fails retryably.

Every attempt is written to the journal (`tests.reliability.journal`, ``FD_REL_DB``)
before the handler returns. A successful one applies the side effect through
``ctx.once("effect")``; inside it, the effect and the idempotency marker are written in one
transaction, which closes the helper's remaining window (a crash between the side effect
and the marker) and a race between two deliveries of one event in two processes.
"""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

import frontdesk
from frontdesk.events import BookingCreated, BookingModified, Event, MaintenanceRequested
from tests.reliability.journal import GroupCommit, JournalStore, apply_effect, now_ms

STEP = "effect"

_writer = GroupCommit(os.environ.get("FD_REL_DB", "reliability.sqlite3"))

app = frontdesk.App(
    "reliability",
    queue="operational",
    # Short tiers keep the scenarios short; eight attempts wait 1+2+2+2+2+2+2 = 13 s in
    # all, longer than the dependency outage the mixed scenario injects.
    retry=frontdesk.RetryPolicy(tiers=("1s", "2s"), max_attempts=8),
    idempotency=JournalStore(_writer),
    config=frontdesk.WorkerConfig(
        concurrency=int(os.environ.get("FD_REL_CONCURRENCY", "32")),
        commit_interval=0.2,
        # The broker's minimum: a SIGKILLed member's partitions move after 6 s, not 45 s.
        session_timeout_ms=6000,
        metadata_refresh_ms=5000,
        revoke_timeout=5,
        shutdown_timeout=10,
        transaction_timeout=10,
        # members notice a rebalance within half a second instead of three
        consumer_overrides={"heartbeat.interval.ms": 500},
    ),
)


class DependencyDown(frontdesk.RetryableError):
    """The fake OTA is unreachable (the outage flag file exists)."""


def dependency_up() -> bool:
    flag = os.environ.get("FD_REL_DEP_DOWN")
    return flag is None or not Path(flag).exists()


def parse(ref: str) -> tuple[str, int]:
    kind, _key, seq = ref.split(".")
    return kind, int(seq)


async def record(
    event: Event,
    ctx: frontdesk.Context,
    ref: str,
    outcome: str,
    *,
    first: bool | None = None,
    effect: bool = False,
) -> bool:
    """Journal this attempt (and, with ``effect``, apply the side effect once)."""
    kind, seq = parse(ref)
    row = (
        ctx.event_id,
        ctx.key or "",
        seq,
        kind,
        int(type(event).ordered),
        ctx.attempt,
        outcome,
        None if first is None else int(first),
        os.getpid(),
        ctx.topic,
        ctx.partition,
        ctx.offset,
        now_ms(),
    )

    def write(conn: sqlite3.Connection) -> bool:
        applied = apply_effect(conn, ctx.app, ctx.event_id, STEP) if effect else False
        conn.execute(
            "INSERT INTO attempts (event_id, key, seq, kind, ordered, attempt, outcome, first,"
            " pid, topic, partition, offset, at_ms, applied)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (*row, int(applied) if outcome == "ok" else None),
        )
        return applied

    result: bool = await _writer.run(write)
    return result


async def handle(event: Event, ctx: frontdesk.Context, ref: str) -> None:
    kind, _ = parse(ref)
    if kind == "flaky" and ctx.attempt == 1:
        await record(event, ctx, ref, "failed")
        raise ConnectionError("transient: the first attempt of a flaky event fails")
    if kind == "dep" and not dependency_up():
        await record(event, ctx, ref, "dependency_down")
        raise DependencyDown("fake OTA unreachable")
    async with ctx.once(STEP) as first:
        await record(event, ctx, ref, "ok", first=first, effect=first)


@app.handler(BookingCreated)
async def on_created(event: BookingCreated, ctx: frontdesk.Context) -> None:
    await handle(event, ctx, event.booking_id)


@app.handler(BookingModified)
async def on_modified(event: BookingModified, ctx: frontdesk.Context) -> None:
    await handle(event, ctx, event.booking_id)


@app.handler(MaintenanceRequested)
async def on_maintenance(event: MaintenanceRequested, ctx: frontdesk.Context) -> None:
    await handle(event, ctx, event.request_id)


__all__ = ["DependencyDown", "app", "dependency_up", "parse"]
