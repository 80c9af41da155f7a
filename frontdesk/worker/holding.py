"""The runtime side of held keys: hold, park, learn of resolutions, replay, release.

Mixed into `frontdesk.worker.runner.Worker`; the formats and the table are in
`frontdesk.worker.holds`, which also explains the design. The life of a hold, as run here:

1. An ordered event read from a **main** topic fails and goes to a retry tier, the DLQ or
   the fallback queue: the owner of that main partition holds its key (`_after_ordered`);
   the forward carries ``fd-holds: <hold id>``.
2. Later ordered events of the key read from the main topic are **parked** (`_park`); the
   hold's snapshot is written to the state topic by every checkpoint that has a change.
3. The holder succeeds somewhere (a status record arrives through the follower), or an
   operator releases/discards its dead letter, or its redrive succeeds here: the release
   starts (`_start_release`). The parked records are read back (`scan_parked`) and run, in
   order, ahead of the key's newer records; newer main-topic records are still parked
   behind them meanwhile. A replayed record that fails becomes the new holder (back to 1,
   the rest stay parked); when a read finds nothing new, no park is uncommitted, none
   was committed while it read, and it reached the last committed park's offset, the hold
   is removed (tombstone) and the key flows again.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from frontdesk import headers, naming
from frontdesk.dlq.ids import DeadLetterId
from frontdesk.events import Event
from frontdesk.worker.follower import StateFollower
from frontdesk.worker.handoff import Forward, Source, parked_headers
from frontdesk.worker.holds import (
    Hold,
    HolderStatus,
    HoldTable,
    Stage,
    holder_key,
    holds_of,
    now_ms,
    scan_parked,
    with_hold,
)
from frontdesk.worker.records import Job, Outcome, Partition
from frontdesk.worker.scheduler import KeyScheduler

log = logging.getLogger("frontdesk.worker")


class HoldingMixin:
    """Held keys of ordered event types. State lives on the `Worker`."""

    group_id: str
    worker_id: str
    namespace: str | None
    _known: frozenset[str]
    counts: dict[str, int]
    _holds: HoldTable | None
    _follower: StateFollower | None
    _free_forwards: list[Forward]
    _parts: dict[tuple[str, int], Partition]
    _scheduler: KeyScheduler[Job]
    _buffered: int
    _loop: asyncio.AbstractEventLoop | None
    _background: set[asyncio.Task[None]]

    if TYPE_CHECKING:  # provided by the Worker this mixin is part of (runner, processing)

        def _client_conf(self) -> dict[str, Any]: ...

        def _pump(self) -> None: ...

        def _source(self, job: Job) -> Source: ...

    # -- deciding ------------------------------------------------------------------------

    def _hold_of(self, job: Job) -> Hold | None:
        assert self._holds is not None
        assert job.key is not None
        return self._holds.get(job.part.topic, job.part.partition, job.key)

    def _is_redriven_holder(self, rh: list[tuple[str, bytes]], event: Event, hold: Hold) -> bool:
        """A redrive of the holding event's dead letter: it runs first, it is not parked.

        ``fd-redriven-from`` is written by the DLQ tooling onto a main topic, where a tenant
        can write it too, so it is checked against the held-keys state rather than believed:
        the record must be the holding event itself (same key, since it was read under this
        hold, and same event id), the holder must have been dead-lettered, and the header
        must name a dead letter in this main topic's DLQ. A forged one is parked like any
        other event of the key: it cannot jump or release the hold.
        """
        assert self._holds is not None
        raw = headers.get(rh, headers.REDRIVEN_FROM)
        if raw is None or str(event.meta.event_id) != hold.event_id:
            return False
        try:
            source = DeadLetterId.parse(raw)
        except ValueError:
            return False
        return source.topic == naming.dlq_topic(hold.topic) and self._holds.dead_lettered(hold)

    def _replay_applies(self, job: Job) -> bool:
        hold = job.replay
        return (
            hold is not None
            and not hold.removed
            and hold.stage == "releasing"
            and hold.generation == job.generation
        )

    def _park(self, job: Job, hold: Hold, rh: list[tuple[str, bytes]]) -> Outcome:
        """Park a main-topic record behind its key's hold (written at the next checkpoint,
        in the transaction that commits its offset)."""
        assert self._holds is not None
        fwd_headers = parked_headers(
            rh, source=self._source(job), hold_id=hold.hold_id, group=self.group_id,
            now_ms=now_ms(),
        )  # fmt: skip
        forward = Forward(
            naming.parked_topic(job.part.topic),
            job.msg.key(),
            job.msg.value(),
            fwd_headers,
            "park",
            hold.hold_id,
        )
        hold.parked += 1
        hold.pending_parks += 1
        self._holds.touch(hold)
        self.counts["parked"] += 1
        return Outcome([forward], parked=True)

    def _unpark(self, hold_id: str) -> None:
        """A park behind ``hold_id`` became a dead letter instead (it did not fit)."""
        hold = self._holds.by_id.get(hold_id) if self._holds is not None else None
        if hold is not None:
            hold.parked = max(0, hold.parked - 1)
            hold.pending_parks = max(0, hold.pending_parks - 1)
            if hold.stage == "releasing" and not hold.pending_parks:
                self._continue_release(hold)

    def _after_ordered(
        self, job: Job, hold: Hold | None, event: Event, outcome: Outcome
    ) -> Outcome:
        """Hold, re-hold or release a key after its ordered event's outcome."""
        assert self._holds is not None
        assert job.key is not None
        stage = _waiting_stage(outcome)
        event_id = str(event.meta.event_id)
        if job.replay is not None and hold is not None:
            hold.cursor = job.offset + 1
            if stage is not None:  # the parked event is the new holder; the rest wait
                hold.event_id = event_id
                hold.event_type = event.event_type
                hold.stage = stage
                hold.gave_up = False
                hold.generation += 1
                outcome = add_hold_header(outcome, hold.hold_id)
                log.info("key %s held again by %s (%s)", hold.key, event_id, stage)
            self._holds.touch(hold)
            return outcome
        if not job.part.is_main:
            return outcome
        if hold is not None:  # the redriven holder ran first
            if stage is None:
                self._start_release(hold)
            else:
                hold.stage = stage
                self._holds.touch(hold)
                outcome = add_hold_header(outcome, hold.hold_id)
            return outcome
        if stage is not None:
            hold = self._holds.create(
                job.part.topic,
                job.part.partition,
                job.key,
                event_id=event_id,
                event_type=event.event_type,
                stage=stage,
            )
            self.counts["held"] += 1
            log.info("key %s held: %s went to %s", hold.key, event_id, stage)
            outcome = add_hold_header(outcome, hold.hold_id)
        return outcome

    def _with_holder_status(
        self, job: Job, rh: list[tuple[str, bytes]], event: Event, outcome: Outcome
    ) -> Outcome:
        """A holding event handled here: tell its holds' owners (through the state topic).

        The status names the event's tenant: an owner believes it only for a hold on a key
        of that tenant (`HoldTable.resolved`), so a forged ``fd-holds`` cannot release
        another tenant's key."""
        event_id = str(event.meta.event_id)
        ids = holds_of(rh)
        if not ids or outcome.skipped:
            return outcome
        status = _holder_status(outcome)
        if status is None:
            return outcome  # on to another tier: nothing new to tell
        forwards = list(outcome.forwards)
        for hold_id in ids:
            record = HolderStatus(
                hold_id, event_id, status, now_ms(), self.group_id, event.meta.tenant_id
            )
            forwards.append(
                Forward(
                    self._held_topic_of(job.part.topic),
                    holder_key(hold_id).encode(),
                    record.to_json(),
                    [],
                    "state",
                    "holder",
                )
            )
        return Outcome(forwards, dead=outcome.dead)

    # -- learning of resolutions ---------------------------------------------------------

    def _held_topic_of(self, topic: str) -> str:
        """The held-keys topic of the tenant owning ``topic`` (shared for pooled topics):
        a hold and its holder's status are kept where that tenant's worker reads them."""
        return naming.held_topic_for(topic, self.namespace, self._known)

    def _on_state(self, topic: str, key: str, value: bytes | None) -> None:
        """A record of a held-keys or DLQ state topic (on the loop, in topic order); it
        counts only for the holds of the tenant whose topic it came from."""
        table = self._holds
        if table is None:
            return
        owner = naming.state_owner(topic, self.namespace, self._known)
        if topic == naming.held_topic(self.namespace, owner):
            hold = table.apply_state(key, value, owner)
            candidates = [hold] if hold is not None else []
        elif topic == naming.dlq_state_topic(self.namespace, owner):
            candidates = table.apply_dlq_state(value, owner)
        else:
            return
        for hold in candidates:
            if hold.stage != "releasing" and table.resolved(hold):
                self._start_release(hold)

    def _restore_holds(self, part: Partition) -> None:
        """A main partition was assigned: hold what the state topic says is held there."""
        if self._holds is None:
            return
        restored = self._holds.restore(part.topic, part.partition)
        if restored:
            log.info("restored %d held key(s) of %s[%d]", len(restored), part.topic, part.partition)
        for hold in restored:
            if self._holds.resolved(hold):
                self._start_release(hold)

    # -- releasing -----------------------------------------------------------------------

    def _start_release(self, hold: Hold) -> None:
        assert self._holds is not None
        if hold.removed or hold.stage == "releasing":
            return
        hold.stage = "releasing"
        hold.generation += 1
        self._holds.touch(hold)
        log.info("releasing key %s (holder %s)", hold.key, hold.event_id)
        self._continue_release(hold)

    def _continue_release(self, hold: Hold) -> None:
        if hold.scanning or hold.replaying or hold.removed or hold.stage != "releasing":
            return
        if self._holds is None or self._holds.by_id.get(hold.hold_id) is not hold:
            return  # its partition went to another worker
        assert self._loop is not None
        hold.scanning = True
        task = self._loop.create_task(self._release_step(hold))
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    async def _release_step(self, hold: Hold) -> None:
        """Read the hold's parked records back and run them; or finish the release."""
        assert self._loop is not None
        assert self._holds is not None
        generation = hold.generation
        parks_seen = hold.parks_committed
        cursor, since = hold.scan_start()
        try:
            found, read_to = await self._loop.run_in_executor(
                None,
                lambda: scan_parked(
                    self._client_conf(),
                    naming.parked_topic(hold.topic),
                    hold.partition,
                    key=hold.key_bytes,
                    hold_id=hold.hold_id,
                    group=self.group_id,
                    cursor=cursor,
                    since_ms=since,
                ),
            )
        except Exception as exc:  # the broker will answer again: try later
            log.warning("reading parked events of %s failed, retrying: %s", hold.key, exc)
            hold.scanning = False
            self._loop.call_later(1.0, self._continue_release, hold)
            return
        hold.scanning = False
        part = self._parts.get((hold.topic, hold.partition))
        if (
            hold.removed
            or hold.generation != generation
            or hold.stage != "releasing"
            or part is None
            or not part.alive
            or part.revoking
        ):
            return
        msgs = [m for m in found if hold.cursor is None or (m.offset() or 0) >= hold.cursor]
        if msgs:
            parked = part.parked
            if parked is None:
                info = naming.parse_topic(
                    naming.parked_topic(part.topic), part.info.namespace if part.info else None
                )
                parked = part.parked = Partition(
                    naming.parked_topic(part.topic), part.partition, info
                )
            jobs = []
            for msg in msgs:
                job = Job(parked, msg, msg.key(), msg.offset() or 0)
                job.replay = hold
                job.generation = generation
                jobs.append(job)
            hold.replaying += len(jobs)
            self._buffered += len(jobs)
            self._scheduler.submit_first(hold.key_bytes, jobs)
            self.counts["replayed"] += len(jobs)
            self._pump()
            return
        if hold.pending_parks:
            return  # parks on their way: the checkpoint that commits them resumes this
        if hold.parks_committed != parks_seen:
            # A park was committed while the read was in flight: the read may have missed
            # it (it started before). Its checkpoint could not resume this (still
            # scanning), so read again now.
            self._continue_release(hold)
            return
        if read_to < hold.parked_end:
            # The read stopped short of a committed park: its transaction's markers were
            # not all written yet (a commit returns before they are). Read again shortly.
            self._loop.call_later(0.05, self._continue_release, hold)
            return
        self._finish_release(hold)

    def _replay_finished(self, job: Job, outcome: Outcome | None) -> None:
        """Bookkeeping of a replayed record (not tied to any consumer offset)."""
        hold = job.replay
        assert hold is not None
        hold.replaying = max(0, hold.replaying - 1)
        if outcome is not None and not outcome.skipped:
            self._free_forwards.extend(outcome.forwards)
            if hold.generation == job.generation and (hold.cursor or 0) <= job.offset:
                hold.cursor = job.offset + 1  # e.g. dead-lettered before any handler ran
                if self._holds is not None:
                    self._holds.touch(hold)
        if hold.replaying == 0:
            self._continue_release(hold)

    def _finish_release(self, hold: Hold) -> None:
        assert self._holds is not None
        self._holds.remove(hold)
        self._free_forwards.append(
            Forward(
                self._held_topic_of(hold.topic),
                holder_key(hold.hold_id).encode(),
                None,
                [],
                "state",
                "holder",
            )
        )
        self.counts["released"] += 1
        log.info(
            "key %s released (%d event(s) were parked behind %s)",
            hold.key,
            hold.parked,
            hold.event_id,
        )

    def _holds_after_checkpoint(self, parks: list[str], parked_to: dict[str, int]) -> None:
        """Parks committed: a release waiting for them goes on (and one reading the parked
        topic now reads it again before it finishes, see `_release_step`).

        ``parked_to``: per hold id, one past the highest parked offset just committed.
        """
        if self._holds is None:
            return
        touched = []
        for hold_id in parks:
            hold = self._holds.by_id.get(hold_id)
            if hold is not None:
                hold.pending_parks = max(0, hold.pending_parks - 1)
                hold.parks_committed += 1
                hold.parked_end = max(hold.parked_end, parked_to.get(hold_id, 0))
                touched.append(hold)
        for hold in touched:
            if hold.stage == "releasing" and not hold.pending_parks:
                self._continue_release(hold)

    def _hold_snapshots(self) -> tuple[list[Forward], list[tuple[Hold, int]]]:
        """State records of every hold changed since its last committed snapshot."""
        if self._holds is None:
            return [], []
        forwards, taken = [], []
        for hold in self._holds.dirty():
            value = None if hold.removed else hold.to_json()
            topic = self._held_topic_of(hold.topic)
            forwards.append(Forward(topic, hold.state_key.encode(), value, [], "state", "hold"))
            taken.append((hold, hold.dirty))
        return forwards, taken


def _waiting_stage(outcome: Outcome) -> Stage | None:
    """Where the event now waits, or ``None`` when it is done (handled)."""
    kinds = {fw.kind for fw in outcome.forwards}
    if "divert" in kinds:
        return "fallback"
    if "retry" in kinds:
        return "retry"
    if "dlq" in kinds:
        return "dlq"
    return None


def _holder_status(outcome: Outcome) -> str | None:
    kinds = {fw.kind for fw in outcome.forwards}
    if "divert" in kinds:
        return "diverted"
    if "dlq" in kinds:
        return "dead_lettered"
    if "retry" in kinds:
        return None
    return "succeeded"


def add_hold_header(outcome: Outcome, hold_id: str) -> Outcome:
    """The outcome with ``fd-holds`` naming ``hold_id`` on its retry/DLQ/divert forward."""
    outcome.forwards = [
        replace(fw, headers=with_hold(fw.headers, hold_id))
        if fw.kind in ("retry", "dlq", "divert")
        else fw
        for fw in outcome.forwards
    ]
    return outcome
