"""The worker runtime: consume a queue, run handlers per key concurrently, retry, dead-letter.

Shape of one worker process
---------------------------
* **One consumer** joins the group ``[<ns>.]frontdesk.<app>`` (cooperative-sticky) with a
  regex subscription covering the queue's pooled topic, every dedicated tenant's topic of
  the queue, *and their retry tiers* (see `subscription_pattern`).
  A new tenant's topics are picked up at the next metadata refresh, without a restart.
  Tier partitions are consumed by the same consumer and gated with pause/resume
  (`frontdesk.worker.tiers`): one group, one assignment, one transactional producer and
  one commit path for everything the process owns.
* **Poll thread**: ``Consumer.consume`` runs in a dedicated thread so the asyncio loop (and
  the handlers on it) never waits for the broker, and the loop never blocks the poll
  (``max.poll.interval.ms`` cannot be exceeded by slow handlers). Rebalance callbacks run
  in that thread and hand their work to the loop, waiting for it.
* **Key scheduler**: records of different keys run concurrently up to ``concurrency``;
  records of one key run one after another; tenants share the slots fairly
  (`frontdesk.worker.scheduler`, `frontdesk.worker.fairness`). Sync handlers run in a
  thread pool. When too much is buffered, partitions are paused, never buffered without
  bound.
* **Processing** (`frontdesk.worker.processing`): decode, route, call the handler, decide
  the outcome: done, retry tier, DLQ, or the fallback queue when a dependency's circuit
  breaker is open (`frontdesk.worker.breaker`).
* **Held keys** (`frontdesk.worker.holding`, `frontdesk.worker.holds`): an ordered event
  waiting in a tier, the DLQ or the fallback queue holds its key; later events of the key
  are parked and run in order once it is released. A state follower
  (`frontdesk.worker.follower`) keeps the holds across owners and hears operators.
* **Offsets and hand-offs**: a finished record marks its offset in the partition's
  `OffsetTracker`; a failed or parked one also leaves forwards beside it. Checkpoints
  commit everything through one Kafka transaction; the commit order is written down in
  `frontdesk.worker.handoff`.
* **Revocation**: running records of a revoked partition, and queued ones below the
  highest started offset, get up to ``revoke_timeout`` to finish; later queued ones are
  dropped; a checkpoint commits their progress, then the partition is released
  (``incremental_unassign``). Lost partitions are dropped without a commit.
* **DLQ budget**: when too large a share of recent outcomes went to the DLQ, the worker
  stops starting handlers and pauses every partition, and says why, loudly; it resumes
  after the budget's cool-down, if one is set, or on `Worker.resume`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from typing import Any

from confluent_kafka import Consumer, KafkaError, KafkaException, Message, TopicPartition
from confluent_kafka.admin import AdminClient
from opentelemetry import trace

from frontdesk import access, naming, telemetry
from frontdesk.access import AccessDeniedError
from frontdesk.admin.ensure import create_missing
from frontdesk.codec import Codec, default_codec
from frontdesk.connection import NoClusterError, client_config
from frontdesk.contracts.schemas_topic import SchemaTopicReader
from frontdesk.errors import FrontdeskError
from frontdesk.events import Event
from frontdesk.health import BEAT_INTERVAL, HealthState
from frontdesk.queues import QueueType
from frontdesk.settings import Settings
from frontdesk.topology import Topology, state_specs
from frontdesk.topology.model import BROKER_MAX_MESSAGE_BYTES
from frontdesk.trace_export import flush_traces, install_tracing
from frontdesk.worker import halts
from frontdesk.worker.app import App, Route
from frontdesk.worker.breaker import Breakers
from frontdesk.worker.budget import TenantBudgets
from frontdesk.worker.config import WorkerConfig, default_worker_id
from frontdesk.worker.errors import (
    PolicyError,
    TransactionalProducerBrokenError,
    WorkerFencedError,
)
from frontdesk.worker.follower import StateFollower
from frontdesk.worker.halts import TenantHalt, halt_key
from frontdesk.worker.handoff import (
    RECORD_OVERHEAD_BYTES,
    Forward,
    ForwardTooLargeError,
    HandoffAbortedError,
    TransactionalCommitter,
    too_large_dead_letter,
)
from frontdesk.worker.hanging import HangingWatch, OffsetsProbe, operator_hint
from frontdesk.worker.holds import HoldTable
from frontdesk.worker.intake import believed_headers
from frontdesk.worker.processing import ProcessingMixin
from frontdesk.worker.records import Job, Outcome, Partition, record_headers
from frontdesk.worker.scheduler import KeyScheduler
from frontdesk.worker.tiers import LatenessStats, due_at_ms, now_ms

log = logging.getLogger("frontdesk.worker")


class MissingTopicsError(FrontdeskError):
    """Topics the topology declares for this queue do not exist on the cluster."""


def subscription_pattern(
    queue: str, namespace: str | None, tiers: Iterable[str], tenant: str | None = None
) -> str:
    """The regex (librdkafka syntax) for the queue's main topics and their retry tiers."""
    ns = rf"{namespace}\." if namespace else ""
    owner = rf"tenant\.{tenant}" if tenant else r"(pms|tenant\.[a-z0-9][a-z0-9-]*)"
    tier_list = list(tiers)
    tier_part = rf"(\.retry\.({'|'.join(tier_list)}))?" if tier_list else ""
    return rf"^{ns}{owner}\.{queue}{tier_part}$"


_COUNTS = (
    "received",
    "handled",
    "failed_attempts",
    "retried",
    "dead_lettered",
    "transactions",
    "aborted_transactions",
    "diverted",
    "held",
    "parked",
    "replayed",
    "released",
    "hanging_settled",
)


STUCK_MARGIN = 5.0
"""A call of the transactional producer that has not returned ``transaction_timeout`` plus
this many seconds after it started never will (librdkafka ignores its timeout at times):
the producer is broken."""
HANGING_MARGIN = 5.0
"""Group offsets pending this long past ``transaction_timeout`` are taken for hanging. A live
transaction can outlast it (its coordinator aborts a timed-out one at its next cleanup, every
10 s by default), but settling then costs nothing: each worker aborts only offsets of its own
producer id, and its own checkpoints wait for the settling transaction."""
HANGING_RECHECK = 5.0
"""Seconds between checks once the group's offsets were seen pending (and right after start,
when a crash that restarted this process may have left them so)."""
FAILING_FOR = 60.0
"""Checkpoints failing for this long (at least 3 ``transaction_timeout``), and not one
succeeding: the producer is broken (an error that does not clear)."""


class Worker(ProcessingMixin):
    """One worker process's runtime for one `App`. ``await worker.run()`` until `stop`."""

    def __init__(
        self,
        app: App,
        *,
        topology: Topology | None = None,
        config: WorkerConfig | None = None,
        client_config: dict[str, Any] | None = None,
        tracer_provider: trace.TracerProvider | None = None,
        codec: Codec | None = None,
        health: HealthState | None = None,
    ) -> None:
        self.app = app
        self.topology = topology or app.topology()
        self.config = config or app.config
        self.routes: dict[type[Event], Route] = app.compile(self.topology)
        self.namespace = self.topology.namespace
        self._check_scope()
        self.group_id = self.config.group_id or app.group_id(self.namespace, self.config.tenant)
        self.worker_id = self.config.worker_id or default_worker_id()
        self.transactional_id = f"{self.group_id}.{self.worker_id}"
        self.tiers = self.topology.retry_delays(app.queue)
        self.subscription = subscription_pattern(
            app.queue.value, self.namespace, self.tiers, self.config.tenant
        )
        self._client_config = client_config
        self._codec = codec or default_codec()
        self._schema_reader: SchemaTopicReader | None = None
        self._tracer = telemetry.tracer(tracer_provider)
        self._tracer_provider = tracer_provider
        self._tracing = True
        self._metering = True
        self._metrics = telemetry.worker_instruments()
        self._queue_attr = app.queue.value
        self._store = app.idempotency

        self._scheduler: KeyScheduler[Job] = KeyScheduler(self.config.tenant_cap)
        self._parts: dict[tuple[str, int], Partition] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self._background: set[asyncio.Task[None]] = set()
        self._running = 0
        self._buffered = 0
        self._global_full = False
        self._draining = False
        self._stopping = False
        self._fatal: BaseException | None = None
        self._budget = TenantBudgets(app.dlq_budget)
        self._resume_timers: dict[str, asyncio.TimerHandle] = {}
        self._halted_since: dict[str, int] = {}
        self._progress: asyncio.Event | None = None
        self._assigned: asyncio.Event | None = None
        self._commit_lock: asyncio.Lock | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._consumer: Consumer | None = None
        self._committer: TransactionalCommitter | None = None
        self._poll_exec = ThreadPoolExecutor(1, thread_name_prefix="fd-poll")
        self._pause_lock = threading.Lock()
        self._to_pause: dict[tuple[str, int], None] = {}
        self._to_resume: dict[tuple[str, int], None] = {}
        self._group_metadata: object | None = None
        self._commit_exec = ThreadPoolExecutor(1, thread_name_prefix="fd-commit")
        self._sync_exec: ThreadPoolExecutor | None = None
        self._producer_broken: str | None = None
        self._failing_since: float | None = None
        self.on_producer_broken: Callable[[str], None] | None = None
        """Called (on the loop) once the transactional producer is found broken, after the
        worker was told to stop. `run_worker` sets it to exit the process at once (a call
        stuck in librdkafka cannot be interrupted, and its thread would block the exit)."""

        self._breakers = Breakers(app.breaker)
        self._learned: dict[type[Event], set[str]] = {}
        self._topics_seen: set[str] = set()
        self._divert_warned: set[str] = set()
        ordered = any(route.ordered for route in self.routes.values())
        self._known = self.topology.dedicated_ids
        """Dedicated tenants with state topics of their own: a tenant the topology does not
        name (its topics seen by the regex subscription) keeps its state in the shared ones."""
        self._holds = HoldTable(self.group_id, self.namespace, self._known) if ordered else None
        self._follower: StateFollower | None = None
        self._state_owners: list[str | None] = (
            [self.config.tenant] if self.config.tenant else self.topology.state_owners()
        )
        """Whose internal state topics this worker uses: its dedicated tenant's alone, or
        (serving every tenant) the shared ones and every dedicated tenant's."""
        self._max_bytes = self.topology.max_message_bytes()
        """Each declared topic's ``max.message.bytes``: a forward that would not fit its
        target is dead-lettered as ``too_large`` instead (see `_fit`)."""
        self._free_forwards: list[Forward] = []
        """Forwards not tied to a consumer offset (replays, releases): next checkpoint."""

        self.lateness = LatenessStats()
        self.counts: dict[str, int] = dict.fromkeys(_COUNTS, 0)
        self.health = health or HealthState()
        """What ``/healthz`` and ``/readyz`` report (`frontdesk.health`); updated here."""
        self.health.check("group", False, f"starting; group {self.group_id} not joined yet")

    # -- lifecycle -------------------------------------------------------------------------

    async def run(self) -> None:
        """Consume until `stop` (or a fatal error, which is re-raised after cleanup)."""
        loop = self._loop = asyncio.get_running_loop()
        self._tracing = telemetry.tracing_enabled(self._tracer_provider)
        self._metering = telemetry.metrics_enabled()
        self._progress = asyncio.Event()
        self._assigned = asyncio.Event()
        self._commit_lock = asyncio.Lock()
        beating = loop.create_task(self._beat())
        try:
            await self._run_started(loop)
        finally:
            beating.cancel()

    async def _beat(self) -> None:
        """Prove the loop turns (``/healthz``): a stuck loop stops beating."""
        while True:
            self.health.beat()
            await asyncio.sleep(BEAT_INTERVAL)

    async def _run_started(self, loop: asyncio.AbstractEventLoop) -> None:
        await self._start()
        checkpoints = loop.create_task(self._checkpoint_loop())
        if self.config.hanging_check_interval > 0:
            watch = loop.create_task(self._hanging_loop())
            self._background.add(watch)
            watch.add_done_callback(self._background.discard)
        self._register_gauges()
        limit = self.config.buffered_limit
        full_since: float | None = None
        try:
            while not self._stopping:
                if self._follower is not None and self._follower.error is not None:
                    self._fail(self._follower.error)
                    break
                if self._buffered >= limit and not self._global_full:
                    # Handlers are behind. Wait a little before pausing the partitions,
                    # because a pause discards what librdkafka already prefetched and
                    # pause/resume thrash costs more than it saves. Still full after
                    # `stall_before_pause`: pause everything, and keep polling so the
                    # group membership and rebalances are served.
                    full_since = full_since or loop.time()
                    if loop.time() - full_since < self.config.stall_before_pause:
                        await self._wait_progress(0.05)
                        continue
                    self._global_full = True
                    self._sync_pauses()
                else:
                    full_since = None
                messages = await loop.run_in_executor(self._poll_exec, self._poll_once)
                for msg in messages:
                    self._accept(msg)
                self._pump()
                self._sync_pauses()
        finally:
            self._unregister_gauges()
            await self._shutdown(checkpoints)
        if self._fatal is not None:
            raise self._fatal

    def stop(self) -> None:
        """Ask the worker to drain and exit: finish running handlers, commit, leave."""
        if not self._stopping:
            log.info("worker %s stopping", self.worker_id)
            self.health.check("running", False, "stopping: draining in-flight work")
        self._stopping = True

    async def wait_assigned(self, timeout: float = 30.0) -> None:
        """Wait until the group gave this worker its first partitions (for tests, tools)."""
        while self._assigned is None:
            await asyncio.sleep(0.01)
        await asyncio.wait_for(self._assigned.wait(), timeout)

    @property
    def halted(self) -> str | None:
        """Why the DLQ budget halted tenants (one line per tenant), or ``None``."""
        return "; ".join(self._budget.halted.values()) or None

    @property
    def halted_tenants(self) -> dict[str, str]:
        """Each tenant the DLQ budget halted, and why."""
        return dict(self._budget.halted)

    def resume(self, tenant: str | None = None) -> None:
        """Handle a halted tenant's events again (every halted tenant if ``None``): the
        control signal for an operator who fixed the cause; a budget's ``resume_after``
        does it by itself. Events that waited in the retry tier run when they are due."""
        for name in self._budget.resume(tenant):
            log.warning("worker %s resumes tenant %s after a DLQ budget halt", self.worker_id, name)
            timer = self._resume_timers.pop(name, None)
            if timer is not None:
                timer.cancel()
            self.health.resume(name)
            self._write_halt(name, None)
        self._sync_pauses()
        self._pump()

    def stats(self) -> dict[str, Any]:
        holds = self._holds
        return {
            **self.counts,
            "worker_id": self.worker_id,
            "group_id": self.group_id,
            "assigned": sorted(f"{p.topic}[{p.partition}]" for p in self._parts.values()),
            "running": self._running,
            "buffered": self._buffered,
            "halted": self.halted,
            "halted_tenants": self.halted_tenants,
            "retry_lateness": self.lateness.summary(),
            "held_keys": sorted(
                h.key for hs in (holds.owned.values() if holds else ()) for h in hs.values()
            ),
            "breakers": self._breakers.states(),
            "running_by_tenant": self._scheduler.running_by_tenant(),
        }

    def _poll_once(self) -> list[Message]:
        """One turn of the poll thread: apply pause/resume, fetch, refresh group metadata.

        Every consumer call except ``consume`` itself is made here or in the rebalance
        callbacks, never from the loop: while the poll thread is inside a rebalance callback
        (which waits for the loop), librdkafka blocks other threads' consumer calls such as
        ``consumer_group_metadata``, and calling one from the loop would deadlock.
        """
        consumer = self._consumer
        assert consumer is not None
        with self._pause_lock:
            to_pause, to_resume = self._to_pause, self._to_resume
            self._to_pause, self._to_resume = {}, {}
        try:
            if to_pause:
                consumer.pause([TopicPartition(t, p) for t, p in to_pause])
            if to_resume:
                consumer.resume([TopicPartition(t, p) for t, p in to_resume])
        except KafkaException as exc:  # revoked meanwhile: nothing left to pause
            log.debug("pause/resume: %s", exc)
        # poll() returns as soon as one record is there; consume(n, 0) then takes what is
        # already fetched. consume(n, timeout) alone would wait for n records or the whole
        # timeout, adding up to `poll_timeout` of latency at low rates.
        first = consumer.poll(self.config.poll_timeout)
        messages = [] if first is None else [first]
        if first is not None and self.config.poll_batch > 1:
            messages += consumer.consume(self.config.poll_batch - 1, 0)
        self._group_metadata = consumer.consumer_group_metadata()
        return messages

    def _client_conf(self) -> dict[str, Any]:
        if self._client_config is not None:
            return dict(self._client_config)
        return client_config()

    async def _start(self) -> None:
        loop = asyncio.get_running_loop()
        conf = self._client_conf()
        consumer_conf = {
            **conf,
            "client.id": self.worker_id,
            "group.id": self.group_id,
            "partition.assignment.strategy": "cooperative-sticky",
            # Offsets are committed by our checkpoints only, after the work is done.
            "enable.auto.commit": False,
            "enable.auto.offset.store": False,
            "auto.offset.reset": self.config.auto_offset_reset,
            # Retry tiers are written in transactions: never read an aborted hand-off.
            "isolation.level": "read_committed",
            # The regex subscription is re-evaluated at each refresh: new tenants appear.
            "topic.metadata.refresh.interval.ms": self.config.metadata_refresh_ms,
            "session.timeout.ms": self.config.session_timeout_ms,
            **self.config.consumer_overrides,
        }
        if self.config.group_instance_id is not None:
            consumer_conf["group.instance.id"] = self.config.group_instance_id
        self._consumer = Consumer(consumer_conf, logger=logging.getLogger("frontdesk.kafka"))
        # Versions newer than this worker ships are read through the published schemas.
        self._schema_reader = SchemaTopicReader(
            conf, naming.schemas_topic(self.namespace), group=self.group_id
        )
        self._codec = self._codec.with_schemas(self._schema_reader)
        self._committer = TransactionalCommitter(
            conf,
            self.transactional_id,
            self.config.transaction_timeout,
            self.group_id,
            max(self._max_bytes.values(), default=BROKER_MAX_MESSAGE_BYTES) + RECORD_OVERHEAD_BYTES,
        )
        await loop.run_in_executor(None, self._preflight, conf)
        await self._on_commit_thread(self._committer.start)
        self._report_producer_usable()
        if self._holds is not None:
            topics = [
                name
                for owner in self._state_owners
                for name in (
                    naming.held_topic(self.namespace, owner),
                    naming.dlq_state_topic(self.namespace, owner),
                )
            ]
            self._follower = StateFollower(
                conf, topics, self._on_state, self.worker_id, self.group_id
            )
            self._follower.start(loop)
            await self._follower.sync()
        self._consumer.subscribe(
            [self.subscription],
            on_assign=self._on_assign,
            on_revoke=self._on_revoke,
            on_lost=self._on_lost,
        )
        log.info(
            "worker %s of %s consuming %s (group %s, transactional id %s)",
            self.worker_id,
            self.app.name,
            self.subscription,
            self.group_id,
            self.transactional_id,
        )

    def _check_scope(self) -> None:
        """A worker scoped to a tenant serves a dedicated tenant, under its prefix only."""
        tenant = self.config.tenant
        if tenant is None:
            return
        if not self.topology.is_dedicated(tenant):
            raise PolicyError(
                f"tenant {tenant!r} is not a dedicated tenant of the topology: only a "
                "dedicated tenant has topics (and ACLs) of its own to run a worker on"
            )
        prefix = self.topology.tenant_prefix(tenant)
        group = self.config.group_id
        if group is not None and not group.startswith(prefix):
            raise PolicyError(
                f"group id {group!r} is not under tenant {tenant}'s prefix {prefix!r}: its "
                "worker may only use groups and transactional ids there"
            )

    def _needs(self) -> tuple[dict[str, tuple[str, ...]], dict[str, tuple[str, ...]]]:
        """(topics that must exist, topics used if they exist), each with the operations
        this worker performs on it."""
        queue = self.app.queue
        if self.config.tenant:
            mains = [naming.main_topic(queue, self.config.tenant, self.namespace)]
        else:
            mains = self.topology.main_topics(queue)
        required: dict[str, tuple[str, ...]] = {}
        optional: dict[str, tuple[str, ...]] = {}
        for main in mains:
            required[main] = ("READ",)
            required[naming.dlq_topic(main)] = ("WRITE",)
            for delay in self.tiers:
                required[naming.retry_topic(main, delay)] = ("READ", "WRITE")
            if self._holds is not None:
                required[naming.parked_topic(main)] = ("READ", "WRITE")
        if queue is not QueueType.FALLBACK:
            for owner in self._state_owners:
                optional[naming.main_topic(QueueType.FALLBACK, owner, self.namespace)] = ("WRITE",)
        for owner in self._state_owners:
            held = naming.held_topic(self.namespace, owner)
            if self._holds is not None:
                required[held] = ("READ", "WRITE")
                required[naming.dlq_state_topic(self.namespace, owner)] = ("READ",)
            else:
                optional[held] = ("WRITE",)  # to report the success of a holding event
        return required, optional

    def _preflight(self, conf: dict[str, Any]) -> None:
        """Before anything is consumed: the topics exist and the principal may do on each
        topic and the group what the worker will do, or one line says what is missing.

        A worker serving every tenant (the platform's) creates missing internal state
        topics; a tenant's worker cannot (its ACLs do not allow it) and is told to run
        `topics apply`, which declares them."""
        admin = AdminClient(conf)
        required, optional = self._needs()
        if not self.config.tenant:
            rf = self.topology.cluster.replication_factor
            specs = [s for o in self._state_owners for s in state_specs(self.namespace, o, rf)]
            try:
                create_missing(admin, specs)
            except KafkaException as exc:
                err = exc.args[0]
                if not access.is_denied(err):
                    raise
                if self._holds is not None:
                    missing = access.check_topics(admin, {s.name: () for s in specs}, conf)
                    if missing:
                        raise access.denied(err, missing[0], "CREATE", conf) from exc
        missing = access.check_topics(admin, required, conf)
        self._topics_seen = set(required) - set(missing)
        if missing:
            raise MissingTopicsError(
                f"topics missing for queue {self.app.queue.value}: {', '.join(missing)}; "
                "create them with `frontdesk topics apply`"
            )
        absent = access.check_topics(admin, optional, conf)
        self._topics_seen |= set(optional) - set(absent)
        access.check_group(admin, self.group_id, conf)

    async def _shutdown(self, checkpoints: asyncio.Task[None]) -> None:
        self._stopping = True
        self._draining = True
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.config.shutdown_timeout
        if self._producer_broken is not None:
            deadline = loop.time()  # nothing they finish could be committed
        while self._running and loop.time() < deadline:
            await self._wait_progress(deadline - loop.time())
        for task in list(self._tasks):
            task.cancel()  # past the deadline: these offsets stay uncommitted
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)
        for task in list(self._background):
            task.cancel()
        if self._background:
            await asyncio.gather(*self._background, return_exceptions=True)
        assert self._commit_lock is not None
        async with self._commit_lock:  # not in the middle of a commit: its bookkeeping
            checkpoints.cancel()  # after the transaction must not be lost
        await asyncio.gather(checkpoints, return_exceptions=True)
        await self._checkpoint()
        if self._consumer is not None:
            # close() runs the revoke callback, which needs this loop: close off-loop.
            await loop.run_in_executor(self._poll_exec, self._consumer.close)
        if self._committer is not None and self._producer_broken is None:
            await self._on_commit_thread(self._committer.close)
        if self._follower is not None:
            await loop.run_in_executor(None, self._follower.stop)
        if self._schema_reader is not None:
            self._schema_reader.close()
        for part in self._parts.values():
            if part.timer is not None:
                part.timer.cancel()
        for timer in self._resume_timers.values():
            timer.cancel()
        self._poll_exec.shutdown(wait=False)
        self._commit_exec.shutdown(wait=False)
        if self._sync_exec is not None:
            self._sync_exec.shutdown(wait=False)
        if self._store is not None and self.app.idempotency is None:
            await self._store.close()
        log.info("worker %s stopped: %s", self.worker_id, self.counts)

    async def _wait_progress(self, timeout: float) -> None:
        assert self._progress is not None
        self._progress.clear()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._progress.wait(), max(timeout, 0.001))

    async def _on_commit_thread(self, fn: Callable[..., Any], *args: Any) -> Any:
        """Run a method of the committer on its thread, and give up on it (the producer is
        broken) when one of its librdkafka calls outlives its timeout by `STUCK_MARGIN`."""
        assert self._loop is not None
        assert self._committer is not None
        future = self._loop.run_in_executor(self._commit_exec, fn, *args)
        bound = self.config.transaction_timeout + STUCK_MARGIN
        while True:
            done, _ = await asyncio.wait({future}, timeout=min(1.0, bound))
            if done:
                return future.result()
            stuck = self._committer.stuck(bound)
            if stuck is not None:
                name, elapsed = stuck
                reason = (
                    f"{name} has not returned after {elapsed:.0f}s "
                    f"(timeout {self.config.transaction_timeout:g}s)"
                )
                self._break_producer(reason)
                raise TransactionalProducerBrokenError(reason)

    def _break_producer(self, reason: str) -> None:
        """Nothing can be committed any more: stop, and let the process exit non-zero."""
        if self._producer_broken is not None:
            return
        self._producer_broken = reason
        self.health.check("producer", False, f"broken: {reason}")
        log.critical(
            "worker %s: the transactional producer %r is broken: %s. Nothing can be "
            "committed; the process must exit so that a restart of its slot (same "
            "transactional id) fences it and aborts its open transaction. Uncommitted "
            "events are redelivered, nothing is lost.",
            self.worker_id,
            self.transactional_id,
            reason,
        )
        self._fail(TransactionalProducerBrokenError(reason))
        if self.on_producer_broken is not None:
            self.on_producer_broken(reason)

    def _fail(self, exc: BaseException) -> None:
        if self._fatal is None:
            self._fatal = exc
            log.critical("worker %s stopping on a fatal error: %s", self.worker_id, exc)
        self.stop()

    # -- gauges ------------------------------------------------------------------------------

    def _register_gauges(self) -> None:
        telemetry.register_lag_source(self._lag_observations)
        for name, source in self._gauges().items():
            telemetry.register_gauge_source(name, source)

    def _unregister_gauges(self) -> None:
        telemetry.unregister_lag_source(self._lag_observations)
        for name, source in self._gauges().items():
            telemetry.unregister_gauge_source(name, source)

    def _gauges(self) -> dict[str, telemetry.LagSource]:
        return {
            "frontdesk.worker.tenant_inflight": self._tenant_observations,
            "frontdesk.worker.held_keys": self._held_observations,
            "frontdesk.worker.oldest_held_key_age": self._held_age_observations,
            "frontdesk.worker.parked_events": self._parked_observations,
            "frontdesk.breaker.open": self._breaker_observations,
            "frontdesk.tenant.halted": self._halted_observations,
        }

    def _halted_observations(self) -> Iterable[tuple[dict[str, str], int]]:
        return [
            ({"queue": self._queue_attr, "tenant": tenant}, 1) for tenant in self._budget.halted
        ]

    def _tenant_observations(self) -> Iterable[tuple[dict[str, str], int]]:
        return [
            ({"queue": self._queue_attr, "tenant": tenant}, n)
            for tenant, n in self._scheduler.running_by_tenant().items()
        ]

    def _held_observations(self) -> Iterable[tuple[dict[str, str], int]]:
        counts = self._holds.owned_count() if self._holds is not None else {}
        return [({"queue": self._queue_attr, "topic": t}, n) for t, n in counts.items()]

    def _held_age_observations(self) -> Iterable[tuple[dict[str, str], int]]:
        oldest: dict[str, int] = {}
        if self._holds is not None:
            for holds in list(self._holds.owned.values()):
                for hold in list(holds.values()):
                    if hold.since > 0:  # a record without its time says nothing of age
                        since = oldest.get(hold.topic, hold.since)
                        oldest[hold.topic] = min(since, hold.since)
        now = now_ms()
        return [
            ({"queue": self._queue_attr, "topic": t}, max(0, (now - since) // 1000))
            for t, since in oldest.items()
        ]

    def _parked_observations(self) -> Iterable[tuple[dict[str, str], int]]:
        out: dict[str, int] = {}
        if self._holds is not None:
            for hold in list(self._holds.by_id.values()):
                out[hold.topic] = out.get(hold.topic, 0) + hold.parked
        return [({"queue": self._queue_attr, "topic": t}, n) for t, n in out.items()]

    def _breaker_observations(self) -> Iterable[tuple[dict[str, str], int]]:
        now = time.monotonic()
        return [
            ({"queue": self._queue_attr, "dependency": b.name}, int(b.is_open(now)))
            for b in self._breakers
        ]

    # -- rebalance callbacks (poll thread) -------------------------------------------------

    def _call_on_loop(self, coro: Any, timeout: float) -> None:
        assert self._loop is not None
        future = asyncio.run_coroutine_threadsafe(coro, self._loop)
        try:
            future.result(timeout)
        except Exception:
            log.exception("rebalance handling failed")

    def _on_assign(self, consumer: Consumer, partitions: list[TopicPartition]) -> None:
        self._call_on_loop(self._assign(partitions), 90)
        consumer.incremental_assign(partitions)

    def _on_revoke(self, consumer: Consumer, partitions: list[TopicPartition]) -> None:
        timeout = self.config.revoke_timeout + self.config.transaction_timeout + 5
        self._group_metadata = consumer.consumer_group_metadata()
        self._call_on_loop(self._revoke(partitions, commit=True), timeout)
        consumer.incremental_unassign(partitions)

    def _on_lost(self, consumer: Consumer, partitions: list[TopicPartition]) -> None:
        self._call_on_loop(self._revoke(partitions, commit=False), 30)
        consumer.incremental_unassign(partitions)

    def _forget_pending_pauses(self, partitions: list[TopicPartition]) -> None:
        """A (re)assigned or released partition starts unpaused: drop queued changes."""
        with self._pause_lock:
            for tp in partitions:
                self._to_pause.pop((tp.topic, tp.partition), None)
                self._to_resume.pop((tp.topic, tp.partition), None)

    async def _assign(self, partitions: list[TopicPartition]) -> None:
        self._forget_pending_pauses(partitions)
        new = []
        for tp in partitions:
            info = naming.parse_topic(tp.topic, self.namespace)
            new.append(Partition(tp.topic, tp.partition, info))
        if self._follower is not None and any(p.is_main for p in new):
            # Before a main partition is taken, read every hold its previous owner
            # committed (its revoke checkpoint is already in the state topic).
            await self._follower.sync()
        for part in new:
            self._parts[(part.topic, part.partition)] = part
            if part.is_main:
                self._restore_holds(part)
        if partitions:
            log.info("assigned %s", ", ".join(f"{tp.topic}[{tp.partition}]" for tp in partitions))
            assert self._assigned is not None
            if not self._assigned.is_set():
                log.info("worker %s ready", self.worker_id)
            self._assigned.set()
        self._report_group()

    async def _revoke(self, partitions: list[TopicPartition], *, commit: bool) -> None:
        parts = [p for tp in partitions if (p := self._parts.get((tp.topic, tp.partition)))]
        related = parts + [p.parked for p in parts if p.parked is not None]
        for part in related:
            part.revoking = True
            # Queued records below the highest started one hold the commit point back over
            # finished work: run them too (within revoke_timeout), so that the next owner
            # does not handle again what this one finished. Later ones are dropped.
            runnable = commit and not self._draining
            part.revoke_below = part.started_max if runnable else -1
            if part.timer is not None:
                part.timer.cancel()
                part.timer = None
            if part.gate is not None:
                part.gate.clear()  # not started: the next owner reads them again
        if commit:
            loop = asyncio.get_running_loop()
            deadline = loop.time() + self.config.revoke_timeout
            while loop.time() < deadline and any(
                p.running or _blocked_below(p, p.revoke_below) for p in related
            ):
                await self._wait_progress(deadline - loop.time())
                self._pump()
            stuck = [f"{p.topic}[{p.partition}]" for p in related if p.running]
            if stuck:
                log.warning("revoke: handlers still running on %s; they will be redelivered", stuck)
            await self._checkpoint()
        for part in related:
            part.alive = False
            self._parts.pop((part.topic, part.partition), None)
            if self._holds is not None and part.is_main:
                self._holds.drop(part.topic, part.partition)
        self._forget_pending_pauses(partitions)
        self._report_group()
        if parts:
            log.info(
                "%s %s",
                "revoked" if commit else "lost",
                ", ".join(f"{p.topic}[{p.partition}]" for p in parts),
            )

    def _report_group(self) -> None:
        """Readiness: joined the group, with partitions or legitimately without (a group
        with more members than partitions leaves some idle)."""
        n = len(self._parts)
        detail = (
            f"{n} partitions assigned in group {self.group_id}"
            if n
            else f"member of group {self.group_id} with no partitions assigned "
            "(more members than partitions, or a rebalance in progress)"
        )
        self.health.check("group", True, detail)

    # -- intake and scheduling (loop thread) -----------------------------------------------

    def _accept(self, msg: Message) -> None:
        err = msg.error()
        if err is not None:
            self._on_consumer_error(err, msg.topic())
            return
        part = self._parts.get((msg.topic() or "", msg.partition() or 0))
        if part is None or part.revoking:
            return
        offset = msg.offset()
        if offset is None or not part.tracker.receive(offset):
            return
        self.counts["received"] += 1
        job = Job(part, msg, msg.key(), offset)
        if part.gate is not None:
            job.due_ms = due_at_ms(record_headers(msg), self._latest_due_ms(job))
            if not part.gate.offer(job.due_ms, job, now_ms()):
                if part.timer is None:
                    self._arm(part)
                return
        self._scheduler.submit(job.key, job)
        self._buffered += 1

    def _on_consumer_error(self, err: KafkaError, topic: str | None = None) -> None:
        if err.code() == KafkaError._PARTITION_EOF:
            return
        if access.is_denied(err):
            # An ACL went missing: retrying cannot help, and the operator needs the name.
            if err.code() == KafkaError.GROUP_AUTHORIZATION_FAILED or not topic:
                name = self.group_id
            else:
                name = topic
            self._fail(access.denied(err, name, "READ", self._client_conf()))
        elif err.fatal():
            self._fail(KafkaException(err))
        else:
            log.warning("consumer error: %s", err.str())

    def _arm(self, part: Partition) -> None:
        """Pause a tier partition until its head is due and set a timer for that moment."""
        assert self._loop is not None
        assert part.gate is not None
        if part.timer is not None:
            part.timer.cancel()
            part.timer = None
        due = part.gate.next_due()
        if due is None:
            part.reasons.discard("due")
            return
        part.reasons.add("due")
        delay = max(0.0, (due - now_ms()) / 1000)
        part.timer = self._loop.call_later(delay, self._on_due, part)

    def _on_due(self, part: Partition) -> None:
        part.timer = None
        if not part.alive or part.revoking or part.gate is None:
            return
        for job in part.gate.release(now_ms()):
            self._scheduler.submit(job.key, job)
            self._buffered += 1
        self._arm(part)
        self._pump()
        self._sync_pauses()

    def _pump(self) -> None:
        """Start ready records while there is a free concurrency slot."""
        if self._draining:
            return
        loop = self._loop
        assert loop is not None
        limit = self.config.concurrency
        scheduler = self._scheduler
        while self._running < limit:
            job = scheduler.next_ready()
            if job is None:
                return
            part = job.part
            if not part.alive or (part.revoking and job.offset >= part.revoke_below):
                scheduler.done(job.key)
                self._buffered -= 1
                if job.replay is not None:
                    self._replay_finished(job, None)
                continue
            self._running += 1
            part.running += 1
            if job.offset > part.started_max and job.replay is None:
                part.started_max = job.offset
            task = loop.create_task(self._run(job))
            job.task = task
            self._tasks.add(task)

    def _sync_pauses(self) -> None:
        """Pause or resume partitions so the fetcher matches what the runtime can take."""
        if self._global_full and self._buffered <= self.config.buffered_limit // 2:
            self._global_full = False
        hold_all = self._global_full or self._draining
        halted = self._budget.halted
        outstanding_limit = self.config.max_outstanding
        to_pause: list[tuple[str, int]] = []
        to_resume: list[tuple[str, int]] = []
        for part in self._parts.values():
            if part.revoking:
                continue
            outstanding = part.tracker.outstanding
            if outstanding >= outstanding_limit:
                part.reasons.add("window")
            elif outstanding <= outstanding_limit // 2:
                part.reasons.discard("window")
            # A halted dedicated tenant's partitions are its alone: pause them (its events
            # on pooled partitions wait in a retry tier instead, see `_wait_halted`).
            want = (
                hold_all
                or bool(part.reasons)
                or (part.info is not None and part.info.tenant_id in halted)
            )
            if want != part.paused:
                part.paused = want
                (to_pause if want else to_resume).append((part.topic, part.partition))
        if to_pause or to_resume:
            with self._pause_lock:  # applied by the poll thread before its next fetch
                for tp in to_pause:
                    self._to_resume.pop(tp, None)
                    self._to_pause[tp] = None
                for tp in to_resume:
                    self._to_pause.pop(tp, None)
                    self._to_resume[tp] = None

    # -- running one record ----------------------------------------------------------------

    async def _run(self, job: Job) -> None:
        try:
            outcome = await self._process(job)
        except asyncio.CancelledError:
            self._tasks.discard(job.task)
            self._release(job, None)
            raise
        except Exception as exc:  # a bug in the runtime, not in a handler: see _last_resort
            rescued = self._last_resort(job, exc)
            if rescued is None:
                self._tasks.discard(job.task)
                self._release(job, None)
                self._fail(exc)
                return
            outcome = rescued
        except BaseException as exc:
            log.exception(
                "runtime error on %s[%d]@%d", job.part.topic, job.part.partition, job.offset
            )
            self._tasks.discard(job.task)
            self._release(job, None)
            self._fail(exc)
            return
        # Dropped here rather than by a done-callback: one less loop turn per record.
        self._tasks.discard(job.task)
        self._release(job, self._fit(outcome))

    def _refit(self, oversized: list[Forward]) -> None:
        """The broker refused these forwards for their size: replace them where they wait
        (beside their offsets, or among the free forwards) before the next checkpoint."""
        now = now_ms()
        smaller = {
            id(fw): too_large_dead_letter(fw, self._refit_limit(fw), now) for fw in oversized
        }
        for fw in oversized:
            self._shrunk(fw)
        for part in self._parts.values():
            for offset, forwards in part.forwards.items():
                if any(id(fw) in smaller for fw in forwards):
                    part.forwards[offset] = [smaller.get(id(fw), fw) for fw in forwards]
        self._free_forwards = [smaller.get(id(fw), fw) for fw in self._free_forwards]

    def _refit_limit(self, forward: Forward) -> int:
        """The topic takes less than the topology says (created before it said so): assume
        the broker's default; a ``too_large`` dead letter refused again keeps only the
        envelope and runtime headers (limit 0)."""
        if forward.kind == "dlq" and forward.reason == "too_large":
            return 0
        return min(self._limit(forward.topic), BROKER_MAX_MESSAGE_BYTES)

    def _last_resort(self, job: Job, exc: Exception) -> Outcome | None:
        """Dead-letter a record the runtime itself failed on (``internal_error``), so one
        record that trips a runtime bug cannot crash-loop the worker for every tenant of
        the queue. ``None`` when even that fails: then the worker stops."""
        log.exception(
            "runtime error on %s[%d]@%d: dead-lettering it as internal_error",
            job.part.topic,
            job.part.partition,
            job.offset,
        )
        try:
            believed = believed_headers(job.part.info, record_headers(job.msg))
            return self._dead(
                job, trace.INVALID_SPAN, attempt=1, reason="internal_error", error=exc,
                tenant=None, rh=believed,
            )  # fmt: skip
        except Exception:
            log.exception("could not dead-letter %s[%d]@%d", job.part.topic, job.part.partition,
                          job.offset)  # fmt: skip
            return None

    def _release(self, job: Job, outcome: Outcome | None) -> None:
        """Book a finished (or abandoned, ``outcome=None``) record and start the next ones."""
        part = job.part
        self._running -= 1
        self._buffered -= 1
        part.running -= 1
        self._scheduler.done(job.key)
        if job.replay is not None:
            if part.alive:
                self._replay_finished(job, outcome)
        elif outcome is not None and part.alive:
            if outcome.forwards:
                part.forwards[job.offset] = outcome.forwards
            part.tracker.finish(job.offset)
        if (
            outcome is not None
            and job.tenant is not None
            and part.alive
            and not (outcome.skipped or outcome.parked or outcome.waiting)
        ):
            tripped = self._budget.record(job.tenant, outcome.dead, time.monotonic())
            if tripped is not None:
                self._halt(job.tenant, tripped)
        assert self._progress is not None
        self._progress.set()
        self._pump()

    def _halt(self, tenant: str, reason: str) -> None:
        self.health.halt(tenant, reason)
        cool_down = self.app.dlq_budget.resume_after
        log.critical(
            "DLQ BUDGET EXCEEDED for app %s on queue %s: %s. The worker has STOPPED handling "
            "tenant %s: its events wait in the longest retry tier (its dedicated partitions "
            "are paused) instead of draining into the DLQ; other tenants keep flowing. "
            "Inspect the DLQ (fd-reason, fd-error-class headers) and fix the cause; %s",
            self.app.name,
            self._queue_attr,
            reason,
            tenant,
            f"it resumes by itself in {cool_down:g}s."
            if cool_down
            else "then restart the worker (or call Worker.resume()).",
        )
        if cool_down and self._loop is not None:
            self._resume_timers[tenant] = self._loop.call_later(cool_down, self.resume, tenant)
        self._write_halt(tenant, reason)
        self._sync_pauses()

    def _write_halt(self, tenant: str, reason: str | None) -> None:
        """The halt (or, ``reason=None``, its end) for operators, at the next checkpoint."""
        # A worker serving every tenant says it in the shared held-keys topic (where `lag`
        # reads); a dedicated tenant's own worker in the tenant's, the only one it may write.
        owner = None if None in self._state_owners else self._state_owners[0]
        topic = naming.held_topic(self.namespace, owner)
        if topic not in self._topics_seen:
            return  # the held-keys topic is not there to say it (logged at start)
        value = None
        if reason is not None:
            now = now_ms()
            since = self._halted_since.setdefault(tenant, now)
            halt = TenantHalt(
                self.group_id, tenant, self._queue_attr, reason, since, self.worker_id, now
            )
            value = halt.to_json()
        else:
            self._halted_since.pop(tenant, None)
        key = halt_key(self.group_id, self.worker_id, tenant).encode()
        self._free_forwards.append(Forward(topic, key, value, [], "state", "halt"))

    # -- checkpoints -----------------------------------------------------------------------

    async def _abort_open_transaction(self) -> None:
        """With nothing to commit, still close what a failed checkpoint left open (see
        `TransactionalCommitter.abort_open`); while that fails, checkpoints count as failing,
        so a producer that cannot abort ends in an exit and a fencing restart."""
        assert self._committer is not None
        if not self._committer.open:
            return
        if not await self._transactional("abort", self._committer.abort_open):
            self._checkpoint_failed("the open transaction could not be aborted")
            return
        log.info("worker %s aborted the transaction a failed checkpoint left open", self.worker_id)
        self._checkpoint_succeeded()

    def _checkpoint_succeeded(self) -> None:
        if self._failing_since is not None:
            self._failing_since = None
            self._report_producer_usable()

    def _report_producer_usable(self) -> None:
        self.health.check("producer", True, f"transactional id {self.transactional_id}")

    def _checkpoint_failed(self, error: str) -> None:
        """Past `FAILING_FOR` of failures and no success, the producer is broken."""
        assert self._loop is not None
        now = self._loop.time()
        if self._failing_since is None:
            self._failing_since = now
        elif now - self._failing_since > self.config.transaction_timeout:
            failing = f"no checkpoint succeeded for {now - self._failing_since:.0f}s: {error}"
            self.health.check("producer", False, failing)
        if now - self._failing_since > max(FAILING_FOR, 3 * self.config.transaction_timeout):
            self._break_producer(
                f"no checkpoint has succeeded for {now - self._failing_since:.0f}s "
                f"(last error: {error})"
            )

    async def _hanging_loop(self) -> None:
        """Find group offsets left pending for good and settle this worker's own share
        (`frontdesk.worker.hanging`)."""
        loop = asyncio.get_running_loop()
        probe = await loop.run_in_executor(
            None,
            OffsetsProbe,
            self._client_conf(),
            self.group_id,
            self.subscription,
            self.worker_id,
        )
        watch = HangingWatch(threshold=self.config.transaction_timeout + HANGING_MARGIN)
        interval = self.config.hanging_check_interval
        tries = 0
        check: asyncio.Future[bool | None] | None = None
        delay = min(HANGING_RECHECK, interval)
        try:
            while True:
                await asyncio.sleep(delay)
                began = loop.time()
                check = loop.run_in_executor(None, probe.pending)
                pending = await check
                hanging = watch.observe(pending, began) and bool(probe.partitions)
                tries = tries + 1 if hanging else 0
                # Watch closely while pending, then settle; past the fourth try it is not
                # ours to settle: say so once, and keep trying at the normal pace.
                delay = min(HANGING_RECHECK, interval) if watch.since is not None else interval
                if tries == 4:
                    log.error("worker %s: %s", self.worker_id, operator_hint(self.group_id))
                if tries >= 4:
                    delay = interval
                if hanging:
                    anchor = probe.partitions[0]
                    await self._settle_hanging(
                        TopicPartition(anchor.topic, anchor.partition, 0), loud=tries < 4
                    )
        finally:
            if check is None or check.done():
                probe.close()
            else:  # cancelled mid-check: its thread still uses the probe's consumers
                check.add_done_callback(lambda _: probe.close())

    async def _settle_hanging(self, anchor: TopicPartition, *, loud: bool) -> None:
        assert self._commit_lock is not None
        assert self._committer is not None
        async with self._commit_lock:
            metadata = self._group_metadata
            if metadata is None or self._fatal is not None:
                return
            log.log(
                logging.WARNING if loud else logging.DEBUG,
                "worker %s: offsets of group %s pending for over %.0fs: a transaction ended "
                "without its marker (a broker crash); aborting one of %s to settle them",
                self.worker_id,
                self.group_id,
                self.config.transaction_timeout + HANGING_MARGIN,
                self.transactional_id,
            )
            abort = self._committer.abort_offsets  # the anchor offset is never committed
            if await self._transactional("settling transaction", abort, anchor, metadata):
                self.counts["hanging_settled"] += 1

    async def _transactional(self, what: str, fn: Callable[..., Any], *args: Any) -> bool:
        """Run a committer call other than a checkpoint; whether it succeeded. A failure is
        logged for the next attempt; a fenced producer stops the worker."""
        try:
            await self._on_commit_thread(fn, *args)
        except (HandoffAbortedError, KafkaException) as exc:
            log.warning("%s failed, will retry: %s", what, exc)
            return False
        except TransactionalProducerBrokenError:
            return False
        except WorkerFencedError as exc:
            self._fail(exc)
            return False
        return True

    async def _checkpoint_loop(self) -> None:
        assert self._loop is not None
        refreshed = self._loop.time()
        while True:
            await asyncio.sleep(self.config.commit_interval)
            if self._budget.halted and self._loop.time() - refreshed >= halts.REFRESH_S:
                refreshed = self._loop.time()
                for tenant, reason in self._budget.halted.items():
                    self._write_halt(tenant, reason)  # alive: readers keep showing it
            await self._checkpoint()

    async def _checkpoint(self) -> None:
        """Commit every partition's progress, due forwards, free forwards and changed holds
        in one transaction (the order is in `frontdesk.worker.handoff`)."""
        assert self._commit_lock is not None
        if self._committer is None or self._consumer is None or self._fatal is not None:
            return
        async with self._commit_lock:
            plan: list[tuple[Partition, int, list[int]]] = []
            offsets: list[TopicPartition] = []
            forwards: list[Forward] = []
            for part in self._parts.values():
                if not part.alive:
                    continue
                commit_at = part.tracker.committable()
                if commit_at is None or (
                    part.committed is not None and commit_at <= part.committed
                ):
                    continue
                due = sorted(o for o in part.forwards if o < commit_at)
                for o in due:
                    forwards.extend(part.forwards[o])
                offsets.append(part.tp(commit_at))
                plan.append((part, commit_at, due))
            free = self._free_forwards
            self._free_forwards = []
            forwards.extend(free)
            # Hold snapshots last: the newest state of each hold wins the compaction.
            snapshots, taken = self._hold_snapshots()
            forwards.extend(snapshots)
            if not offsets and not forwards:
                await self._abort_open_transaction()
                return
            metadata = self._group_metadata
            if metadata is None:
                self._free_forwards[:0] = free
                return
            try:
                parked_to = await self._on_commit_thread(
                    self._committer.commit, forwards, offsets, metadata
                )
            except (HandoffAbortedError, KafkaException) as exc:
                self.counts["aborted_transactions"] += isinstance(exc, HandoffAbortedError)
                log.warning("checkpoint failed, will retry: %s", exc)
                self._free_forwards[:0] = free
                if isinstance(exc, ForwardTooLargeError):
                    self._refit(exc.forwards)  # the next checkpoint carries what fits
                    return
                self._checkpoint_failed(str(exc))
                return
            except TransactionalProducerBrokenError:
                return
            except (WorkerFencedError, AccessDeniedError) as exc:
                self._fail(exc)
                return
            self._checkpoint_succeeded()
            self.counts["transactions"] += 1
            for part, commit_at, due in plan:
                part.committed = commit_at
                for offset in due:
                    part.forwards.pop(offset, None)
            if self._holds is not None:
                self._holds.written(taken)
            parks = []
            for fw in forwards:
                if fw.kind == "retry":
                    self.counts["retried"] += 1
                    self._metrics.retries.add(1, {"queue": self._queue_attr, "tier": fw.reason})
                elif fw.kind == "dlq":
                    self.counts["dead_lettered"] += 1
                    self._metrics.dead_letters.add(
                        1, {"queue": self._queue_attr, "reason": fw.reason}
                    )
                elif fw.kind == "park":
                    parks.append(fw.reason)
            self._holds_after_checkpoint(parks, parked_to)

    def _lag_observations(self) -> Iterable[tuple[dict[str, str], int]]:
        consumer = self._consumer
        if consumer is None:
            return []
        out = []
        for part in list(self._parts.values()):
            if part.committed is None:
                continue
            try:
                _low, high = consumer.get_watermark_offsets(part.tp(), cached=True)
            except KafkaException:
                continue
            if high >= 0:
                attrs = {
                    "queue": self._queue_attr,
                    "topic": part.topic,
                    "partition": str(part.partition),
                }
                out.append((attrs, max(0, high - part.committed)))
        return out


def _blocked_below(part: Partition, limit: int) -> bool:
    """Whether an unfinished record below ``limit`` keeps the commit point down."""
    committable = part.tracker.committable()
    return committable is not None and committable < limit


def run_worker(app: App, *, metrics_port: int | None = None, **overrides: Any) -> int:
    """Run a worker in the foreground until SIGTERM/SIGINT: 0 on a clean stop, 1 otherwise."""
    config = replace(app.config, **overrides) if overrides else app.config
    health = HealthState(stale_after=Settings().health_stale_after)
    try:
        install_tracing(f"frontdesk-{app.name}")
    except FrontdeskError as exc:
        log.critical("worker not started: %s", exc)
        return 1
    telemetry.setup(f"frontdesk-{app.name}", metrics_port=metrics_port, health=health)
    worker = Worker(app, config=config, health=health)
    worker.on_producer_broken = _exit_now

    async def main() -> None:
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, worker.stop)
        await worker.run()

    try:
        asyncio.run(main())
    except (FrontdeskError, KafkaException, NoClusterError) as exc:
        log.critical("worker exited: %s", exc)
        return 1
    return 0


def _exit_now(reason: str) -> None:
    """Exit the process at once, status 1: a thread stuck in librdkafka cannot be joined,
    so a normal exit would hang. The supervisor (or the orchestrator) restarts the slot."""
    log.critical("worker process %d exits with status 1: %s", os.getpid(), reason)
    flush_traces()
    logging.shutdown()  # flushes the handlers
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(Exception):
            stream.flush()
    os._exit(1)


__all__ = ["MissingTopicsError", "Worker", "run_worker", "subscription_pattern"]
