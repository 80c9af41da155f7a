"""Running one record: decode, check, route, hold or park, call the handler, decide.

Mixed into `frontdesk.worker.runner.Worker`; everything that turns one record into an
`Outcome` (forwards to write at the next checkpoint) lives here, and every outcome is
decided in one place per kind: `classify` for retry vs DLQ, the circuit breakers for
diversion to the fallback queue, `frontdesk.worker.holding` for held keys.
"""

from __future__ import annotations

import asyncio
import contextvars
import logging
import time
from collections.abc import Coroutine
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from opentelemetry import propagate, trace
from opentelemetry.trace import SpanKind, Status, StatusCode

from frontdesk import headers, naming, telemetry
from frontdesk.codec import Codec
from frontdesk.events import Event
from frontdesk.idempotency import IdempotencyStore, SQLiteStore
from frontdesk.queues import QueueType
from frontdesk.settings import Settings
from frontdesk.topology import Topology
from frontdesk.topology.model import BROKER_MAX_MESSAGE_BYTES
from frontdesk.worker.app import App, Route
from frontdesk.worker.breaker import Breakers, dependency_of, retry_after_of
from frontdesk.worker.budget import TenantBudgets
from frontdesk.worker.config import WorkerConfig
from frontdesk.worker.context import Context
from frontdesk.worker.handoff import (
    Forward,
    Source,
    diverted_headers,
    dlq_headers,
    fitted,
    retry_headers,
)
from frontdesk.worker.holding import HoldingMixin, add_hold_header
from frontdesk.worker.holds import Hold, holds_of
from frontdesk.worker.intake import Admitted, Rejected, admit
from frontdesk.worker.policy import classify
from frontdesk.worker.records import OK, SKIPPED, Job, Outcome, record_headers
from frontdesk.worker.tiers import LatenessStats, now_ms

log = logging.getLogger("frontdesk.worker")


class TenantHaltedError(Exception):
    """On a record waiting in a retry tier because the DLQ budget halted its tenant."""


_TRACE_HEADERS = (headers.TRACEPARENT, headers.TRACESTATE)
DUE_SLACK_MS = 60_000
"""A retry record may be due this much later than now plus its tier's delay (clock skew
between the hosts of a group) before its ``fd-due-at`` is taken for forged."""


class ProcessingMixin(HoldingMixin):
    """Turns a record into an outcome. State lives on the `Worker`."""

    app: App
    topology: Topology
    config: WorkerConfig
    routes: dict[type[Event], Route]
    group_id: str
    worker_id: str
    lateness: LatenessStats
    counts: dict[str, int]
    _codec: Codec
    _tracer: trace.Tracer
    _tracing: bool
    _metering: bool
    _metrics: telemetry.WorkerInstruments
    _queue_attr: str
    _store: IdempotencyStore | None
    _sync_exec: ThreadPoolExecutor | None
    _breakers: Breakers
    _learned: dict[type[Event], set[str]]
    _topics_seen: set[str]
    _divert_warned: set[str]
    _max_bytes: dict[str, int]
    _budget: TenantBudgets

    def _process(self, job: Job) -> Coroutine[Any, Any, Outcome]:
        admission = admit(
            info=job.part.info,
            key=job.key,
            value=job.msg.value(),
            raw_headers=record_headers(job.msg),
            codec=self._codec,
            routes=self.routes,
            latest_due_ms=self._latest_due_ms(job),
        )
        if not self._tracing:
            # No SDK tracer provider: skip span work on the hot path. The producer's
            # traceparent stays in the headers, so retries still carry the trace.
            return self._process_in(job, trace.INVALID_SPAN, admission)
        return self._process_traced(job, admission)

    async def _process_traced(self, job: Job, admission: Admitted | Rejected) -> Outcome:
        rh = admission.headers
        carrier = {k: v.decode("utf-8", "replace") for k, v in rh if k in _TRACE_HEADERS and v}
        parent = propagate.extract(carrier) if carrier else None
        with self._tracer.start_as_current_span(
            f"{self._queue_attr} process",
            context=parent,
            kind=SpanKind.CONSUMER,
            attributes={
                "messaging.system": "kafka",
                "messaging.operation": "process",
                "messaging.destination.name": job.part.topic,
                "messaging.kafka.destination.partition": job.part.partition,
                "messaging.kafka.message.offset": job.offset,
                "frontdesk.attempt": admission.attempt,
            },
        ) as span:
            return await self._process_in(job, span, admission)

    async def _process_in(
        self, job: Job, span: trace.Span, admission: Admitted | Rejected
    ) -> Outcome:
        """Check, hold and run one record (inside its span, if tracing)."""
        if job.due_ms is not None:
            late = now_ms() - job.due_ms
            self.lateness.add(late)
            self._metrics.lateness.record(late, {"queue": self._queue_attr})
        rh = admission.headers
        attempt = admission.attempt
        # The DLQ budget counts a record against its dedicated topic's tenant, else the
        # payload's (after the checks, so a record cannot spend another tenant's budget
        # by naming it in a header); an undecodable pooled record counts for no tenant.
        info = job.part.info
        job.tenant = (
            info.tenant_id
            if info is not None and info.tenant_id is not None
            else admission.tenant
            if isinstance(admission, Rejected)
            else admission.tenant_id
        )
        if isinstance(admission, Rejected):
            return self._dead(
                job, span, attempt=attempt, reason=admission.reason, error=admission.error,
                tenant=admission.tenant, rh=rh,
            )  # fmt: skip
        event = admission.event
        meta = event.meta
        if self._tracing:
            span.set_attribute("frontdesk.event_id", str(meta.event_id))
            span.set_attribute("frontdesk.tenant", meta.tenant_id)
        route = self.routes[type(event)]
        held = self._holds is not None and route.ordered and job.key is not None
        hold = None
        if held:
            if job.replay is not None:
                if not self._replay_applies(job):
                    return SKIPPED
                hold = job.replay
            elif job.part.is_main:
                hold = self._hold_of(job)
                if hold is not None and not self._is_redriven_holder(rh, event, hold):
                    follow = self._follow_diverted(job, hold, route, event, rh)
                    return follow if follow is not None else self._park(job, hold, rh)
        if meta.tenant_id in self._budget.halted:
            outcome = self._wait_halted(job, event, rh, attempt)
        else:
            outcome = await self._handle(
                job, span=span, route=route, event=event, attempt=attempt, rh=rh
            )
        outcome = self._fit(outcome)
        if held:
            outcome = self._after_ordered(job, hold, event, outcome)
        return self._with_holder_status(job, rh, event, outcome)

    def _latest_due_ms(self, job: Job) -> int | None:
        """On a retry tier: the latest due time the runtime could have written (now plus
        the tier's delay and some slack); a later one is forged."""
        info = job.part.info
        if info is None or info.role != "retry" or info.delay is None:
            return None
        return now_ms() + naming.parse_duration_ms(info.delay) + DUE_SLACK_MS

    async def _handle(
        self,
        job: Job,
        *,
        span: trace.Span,
        route: Route,
        event: Event,
        attempt: int,
        rh: list[tuple[str, bytes]],
    ) -> Outcome:
        msg = job.msg
        meta = event.meta
        deps = self._dependencies(route)
        if deps:
            clock = time.monotonic()
            for dep in deps:
                if self._breakers.get(dep).is_open(clock):
                    diverted = self._divert(job, event, rh, dep, f"circuit breaker of {dep} open")
                    if diverted is not None:
                        return diverted
            for dep in deps:
                self._breakers.get(dep).allow(clock)  # claims a probe when half-open
        key = job.key
        ctx = Context(
            event_id=str(meta.event_id),
            attempt=attempt,
            tenant_id=meta.tenant_id,
            property_id=meta.property_id,
            event_type=event.event_type,
            topic=job.part.topic,
            partition=job.part.partition,
            offset=job.offset,
            key=key.decode("utf-8", "replace") if key is not None else None,
            timestamp_ms=msg.timestamp()[1],
            headers=rh,
            app=self.group_id,
            worker_id=self.worker_id,
            due_at_ms=job.due_ms,
            _store=self._idempotency_store,
        )
        attrs = {
            "queue": self._queue_attr,
            "tenant": meta.tenant_id,
            "event_type": event.event_type,
        }
        policy = route.policy
        started = time.perf_counter()
        try:
            if route.is_async:
                call = route.fn(event, ctx)
            else:
                loop = asyncio.get_running_loop()
                if self._sync_exec is None:
                    self._sync_exec = ThreadPoolExecutor(
                        self.config.concurrency, thread_name_prefix="fd-handler"
                    )
                run = contextvars.copy_context().run
                call = loop.run_in_executor(self._sync_exec, run, route.fn, event, ctx)
            if policy.timeout is not None:
                await asyncio.wait_for(call, policy.timeout)
            else:
                await call
        except asyncio.CancelledError:
            for dep in deps:
                self._breakers.get(dep).cancel()
            raise
        except Exception as exc:
            self._metrics.duration.record(time.perf_counter() - started, attrs)
            self.counts["failed_attempts"] += 1
            span.record_exception(exc)
            span.set_status(Status(StatusCode.ERROR, type(exc).__name__))
            retryable = classify(exc, policy)
            tripped = self._count_failure(route, deps, exc, retryable)
            if tripped is not None and retryable:
                diverted = self._divert(job, event, rh, tripped, f"{type(exc).__name__}: {exc}")
                if diverted is not None:
                    return diverted
            retry_after = retry_after_of(exc)
            retry_after_ms = int(retry_after * 1000) if retry_after else None
            tier = policy.tier_after(attempt, retry_after_ms) if retryable else None
            if tier is None:
                reason = "retries_exhausted" if retryable else "non_retryable"
                self._metrics.failed.add(1, {**attrs, "outcome": "dlq"})
                return self._dead(
                    job, span, attempt=attempt, reason=reason, error=exc, tenant=meta.tenant_id,
                    rh=rh,
                )  # fmt: skip
            self._metrics.failed.add(1, {**attrs, "outcome": "retry"})
            now = now_ms()
            main = self._main_of(job)
            retry_topic = naming.retry_topic(main, tier)
            trace_carrier = self._handoff_span("retry", retry_topic) if self._tracing else None
            due = policy.due_at_ms(tier, now)
            if retry_after_ms:
                due = max(due, now + retry_after_ms)
            fwd_headers = retry_headers(
                rh,
                source=self._source(job),
                attempts=attempt,
                error=exc,
                now_ms=now,
                due_ms=due,
                trace=trace_carrier,
            )
            forward = Forward(retry_topic, msg.key(), msg.value(), fwd_headers, "retry", tier)
            return Outcome([forward])
        for dep in deps:
            self._breakers.get(dep).record(False, time.monotonic())
        if self._metering:
            self._metrics.duration.record(time.perf_counter() - started, attrs)
            self._metrics.handled.add(1, attrs)
        self.counts["handled"] += 1
        return OK

    def _wait_halted(
        self, job: Job, event: Event, rh: list[tuple[str, bytes]], attempt: int
    ) -> Outcome:
        """The DLQ budget halted this event's tenant: send it to wait in the queue's longest
        retry tier, without using an attempt, instead of handling it. Its offset is
        committed with that forward, so the partition (shared with other tenants) flows on,
        and nothing is lost; an ordered event holds its key there as a retried one does.
        It comes back when due and waits again until the tenant is resumed."""
        tiers = self.topology.retry_delays(self.app.queue)
        if not tiers:  # no durable place to wait: handle it after all (said once)
            if "no-tier" not in self._divert_warned:
                self._divert_warned.add("no-tier")
                log.warning(
                    "queue %s has no retry tier: halted tenants are handled", self._queue_attr
                )
            return OK
        tier = tiers[-1]
        now = now_ms()
        halted = TenantHaltedError(self._budget.halted.get(event.meta.tenant_id, "halted"))
        fwd_headers = retry_headers(
            rh,
            source=self._source(job),
            attempts=attempt - 1,
            error=halted,
            now_ms=now,
            due_ms=now + naming.parse_duration_ms(tier),
        )
        main = self._main_of(job)
        forward = Forward(
            naming.retry_topic(main, tier),
            job.msg.key(),
            job.msg.value(),
            fwd_headers,
            "retry",
            tier,
        )
        return Outcome([forward], waiting=True)

    # -- circuit breakers ----------------------------------------------------------------

    def _follow_diverted(
        self, job: Job, hold: Hold, route: Route, event: Event, rh: list[tuple[str, bytes]]
    ) -> Outcome | None:
        """While a key's holder waits in the fallback queue and the breaker is still open,
        the key's next events follow it there (in order, on the key's fallback partition)
        instead of being parked; the last one diverted becomes the holder."""
        if hold.stage != "fallback" or self._holds is None:
            return None
        clock = time.monotonic()
        for dep in self._dependencies(route):
            if self._breakers.get(dep).is_open(clock):
                diverted = self._divert(job, event, rh, dep, f"circuit breaker of {dep} open")
                if diverted is None:
                    return None
                hold.event_id = str(event.meta.event_id)
                hold.event_type = event.event_type
                self._holds.touch(hold)
                return add_hold_header(diverted, hold.hold_id)
        return None

    def _dependencies(self, route: Route) -> tuple[str, ...]:
        learned = self._learned.get(route.event_type)
        if route.dependency is None and not learned:
            return ()
        deps = set(learned or ())
        if route.dependency is not None:
            deps.add(route.dependency)
        return tuple(sorted(deps))

    def _count_failure(
        self, route: Route, deps: tuple[str, ...], exc: BaseException, retryable: bool
    ) -> str | None:
        """Feed the breakers one failed call; the dependency whose breaker is open now, if
        the failure is one of that dependency's."""
        named = dependency_of(exc)
        clock = time.monotonic()
        if named is not None and named not in deps:
            self._learned.setdefault(route.event_type, set()).add(named)
            log.info("handler %s depends on %s (learned from %s)", route.name, named, exc)
            deps = (*deps, named)
        tripped = None
        for dep in deps:
            breaker = self._breakers.get(dep)
            if retryable and (named == dep or (named is None and dep == route.dependency)):
                if breaker.record(True, clock):
                    log.warning("circuit breaker OPEN: %s", breaker.describe(clock))
                if breaker.is_open(clock):
                    tripped = dep
            elif named is not None and named == dep:
                breaker.record(False, clock)  # it answered (e.g. a 4xx): it is up
            else:
                breaker.cancel()  # says nothing about this dependency
        return tripped

    def _divert(
        self, job: Job, event: Event, rh: list[tuple[str, bytes]], dependency: str, reason: str
    ) -> Outcome | None:
        """Send the record to its tenant's fallback topic; ``None`` when it cannot be."""
        if self.app.queue is QueueType.FALLBACK:
            return None  # the fallback queue retries through its own tiers
        target = self.topology.main_topic_for(QueueType.FALLBACK, event.meta.tenant_id)
        if target not in self._topics_seen:
            if target not in self._divert_warned:
                self._divert_warned.add(target)
                log.warning("cannot divert to %s: the topic does not exist", target)
            return None
        now = now_ms()
        fwd_headers = diverted_headers(
            rh,
            source=self._source(job),
            main=self._main_of(job),
            dependency=dependency,
            reason=reason,
            now_ms=now,
        )
        self.counts["diverted"] += 1
        # Every divert counts once, whether a failed call tripped the breaker or the breaker
        # was already open: what left this queue for the fallback must add up there.
        self._metrics.failed.add(
            1,
            {
                "queue": self._queue_attr,
                "tenant": event.meta.tenant_id,
                "event_type": event.event_type,
                "outcome": "divert",
            },
        )
        dlq = naming.dlq_topic(self._main_of(job))
        forward = Forward(
            target, job.msg.key(), job.msg.value(), fwd_headers, "divert", dependency, dlq
        )
        return Outcome([forward])

    # -- records too large for where they go ------------------------------------------

    def _fit(self, outcome: Outcome) -> Outcome:
        """Replace each forward that would not fit its topic with a ``too_large`` dead
        letter that does: a hand-off the broker would refuse must never keep a checkpoint
        (and every partition's commit with it) aborting."""
        if not outcome.forwards:
            return outcome
        now = now_ms()
        forwards = [fitted(fw, self._limit(fw.topic), now) for fw in outcome.forwards]
        if all(a is b for a, b in zip(forwards, outcome.forwards, strict=True)):
            return outcome
        for before, after in zip(outcome.forwards, forwards, strict=True):
            if before is not after:
                self._shrunk(before)
        parked = outcome.parked and any(fw.kind == "park" for fw in forwards)
        return Outcome(forwards, dead=outcome.dead or not parked, parked=parked)

    def _limit(self, topic: str) -> int:
        return self._max_bytes.get(topic, BROKER_MAX_MESSAGE_BYTES)

    def _shrunk(self, forward: Forward) -> None:
        """Bookkeeping of a forward replaced by its ``too_large`` dead letter."""
        log.warning(
            "dead-lettering a %s forward to %s as too_large: it does not fit the topic",
            forward.kind,
            forward.topic,
        )
        if forward.kind == "park":
            self._unpark(forward.reason)
        elif self._holds is not None:  # a holder: its key now waits for a dead letter
            for hold_id in holds_of(forward.headers):
                hold = self._holds.by_id.get(hold_id)
                if hold is not None and hold.stage in ("retry", "fallback"):
                    hold.stage = "dlq"
                    self._holds.touch(hold)

    # -- dead letters --------------------------------------------------------------------

    def _main_of(self, job: Job) -> str:
        return job.replay.topic if job.replay is not None else job.part.main

    def _source(self, job: Job) -> Source:
        ts_type, ts = job.msg.timestamp()
        return Source(job.part.topic, job.part.partition, job.offset, ts if ts_type else None)

    def _dead(
        self,
        job: Job,
        span: trace.Span,
        *,
        attempt: int,
        reason: str,
        error: BaseException,
        tenant: str | None,
        rh: list[tuple[str, bytes]],
    ) -> Outcome:
        span.set_attribute("frontdesk.dlq_reason", reason)
        if reason not in ("retries_exhausted", "non_retryable"):
            span.record_exception(error)
            span.set_status(Status(StatusCode.ERROR, reason))
            self._metrics.failed.add(
                1,
                {
                    "queue": self._queue_attr,
                    "tenant": tenant or headers.get(rh, headers.TENANT) or "unknown",
                    "event_type": headers.get(rh, headers.EVENT_TYPE) or "unknown",
                    "outcome": "dlq",
                },
            )
        context = span.get_span_context()
        trace_id = format(context.trace_id, "032x") if context.is_valid else None
        dlq_topic = naming.dlq_topic(self._main_of(job))
        trace_carrier = self._handoff_span("dead-letter", dlq_topic) if self._tracing else None
        fwd_headers = dlq_headers(
            rh,
            source=self._source(job),
            attempts=attempt,
            reason=reason,
            error=error,
            now_ms=now_ms(),
            worker_id=self.worker_id,
            trace_id=trace_id,
            trace=trace_carrier,
        )
        forward = Forward(
            dlq_topic,
            job.msg.key(),
            job.msg.value(),
            fwd_headers,
            "dlq",
            reason,
        )
        log.warning(
            "dead-lettering %s[%d]@%d: %s (%s: %s)",
            job.part.topic,
            job.part.partition,
            job.offset,
            reason,
            type(error).__name__,
            str(error)[:200],
        )
        return Outcome([forward], dead=True)

    def _handoff_span(self, operation: str, topic: str) -> dict[str, str]:
        """A PRODUCER span for handing the record to ``topic``, a child of the attempt's
        span; the trace headers naming it, for the forwarded record. It marks the decision:
        the record is written by the next checkpoint transaction."""
        span = self._tracer.start_span(
            f"{operation} {topic}",
            kind=SpanKind.PRODUCER,
            attributes={
                "messaging.system": "kafka",
                "messaging.operation.type": "send",
                "messaging.destination.name": topic,
                "frontdesk.handoff": operation,
            },
        )
        span.end()
        carrier: dict[str, str] = {}
        propagate.inject(carrier, context=trace.set_span_in_context(span))
        return carrier

    def _idempotency_store(self) -> IdempotencyStore:
        if self._store is None:
            path = Settings().home / "idempotency" / f"{self.group_id}.sqlite3"
            self._store = SQLiteStore(path)
        return self._store
