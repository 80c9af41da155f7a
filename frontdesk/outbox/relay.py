"""The relay: publish outbox rows in `seq` order, mark them sent only once Kafka has them.

Order of operations for each batch, which is what makes a crash at any instant harmless:

1. read the oldest unsent rows, in `seq` order;
2. produce them in that order with the idempotent producer (librdkafka never reorders or
   duplicates within a partition, even across its own retries);
3. wait until Kafka has confirmed every one of them (no timeout: an unreachable Kafka
   stalls the relay, it never skips an event);
4. mark exactly those rows sent, in one transaction.

Killed before 4, the next relay publishes the batch again from its first row: a property's
events arrive again in the same order, with the same event ids (the only duplicates there
can be). A permanent refusal (e.g. no such topic, not authorised) stops the relay after
marking the rows confirmed before the first refused one; it never skips past an event.

Observability: with a ``health_port`` the relay answers ``/healthz`` (its loop turns) and
``/readyz`` (it holds the outbox lock and Kafka confirms its events or answers metadata
requests) (`frontdesk.health`). Each row is sent in a PRODUCER span that continues the
trace the writer stored with the row, exported where ``OTEL_*`` says
(`frontdesk.trace_export`); the record's ``traceparent`` then names the relay's span.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import confluent_kafka
from confluent_kafka import KafkaException
from opentelemetry import propagate, trace

from frontdesk import headers
from frontdesk.errors import DeliveryError
from frontdesk.health import BEAT_INTERVAL, HealthServer, HealthState
from frontdesk.outbox.store import OutboxRow, OutboxStore
from frontdesk.producer.config import producer_config
from frontdesk.producer.routing import Outgoing
from frontdesk.producer.tracing import SendTracer, end_span
from frontdesk.settings import Settings
from frontdesk.telemetry import tracing_enabled
from frontdesk.trace_export import install_tracing

log = logging.getLogger(__name__)

RELAY_OVERRIDES: Mapping[str, Any] = {
    # 0 = never give up on a record: a relay waits for Kafka rather than fail an event,
    # since a failed record followed by a delivered one would reorder the property.
    "message.timeout.ms": 0,
}
SERVICE_NAME = "frontdesk-outbox-relay"
PROBE_INTERVAL = 10.0
"""While idle, how often the relay asks Kafka for metadata to tell readiness."""
_TRACE_HEADERS = (headers.TRACEPARENT, headers.TRACESTATE)


@dataclass
class RelayStats:
    published: int = 0
    batches: int = 0


class Relay:
    """Publishes one outbox table; run it with `run()` until `stop()`."""

    def __init__(
        self,
        store: OutboxStore,
        settings: Settings | None = None,
        *,
        config: Mapping[str, Any] | None = None,
        batch_size: int = 500,
        idle_interval: float = 0.2,
        on_batch: Callable[[int], None] | None = None,
        tracer_provider: trace.TracerProvider | None = None,
        health_port: int | None = None,
        health_addr: str = "0.0.0.0",
    ) -> None:
        """``health_port`` serves ``/healthz`` and ``/readyz`` there (0: any free port,
        then see ``self.server.port``). Without ``tracer_provider`` the one ``OTEL_*``
        configures is installed, if any; a variable it cannot honour raises
        `TracingConfigError`."""
        self.store = store
        self.batch_size = batch_size
        self.idle_interval = idle_interval
        self.on_batch = on_batch
        self.stats = RelayStats()
        self._stop = threading.Event()
        if tracer_provider is None:
            install_tracing(SERVICE_NAME)
        self._tracing = tracing_enabled(tracer_provider)
        self._tracer = SendTracer(tracer_provider)
        self._kafka = confluent_kafka.Producer(producer_config(settings, config, **RELAY_OVERRIDES))
        self.health = HealthState(stale_after=(settings or Settings()).health_stale_after)
        self.health.check("lock", False, "not started")
        self.health.check("kafka", False, "not asked yet")
        self._probed = 0.0
        self.server = (
            HealthServer(self.health, health_port, health_addr, metrics=False)
            if health_port is not None
            else None
        )

    def stop(self) -> None:
        self._stop.set()

    def run(self, *, until_empty: bool = False, lock_timeout: float | None = None) -> RelayStats:
        """Publish until stopped (or, with `until_empty`, until no row is left unsent)."""
        self.health.beat()
        self._acquire_lock(lock_timeout)
        self.health.check("lock", True, "holding the outbox lock: publishing")
        while not self._stop.is_set():
            self.health.beat()
            published = self.publish_batch()
            if published == 0:
                if until_empty:
                    break
                self._probe_kafka()
                self._stop.wait(self.idle_interval)
        return self.stats

    def _probe_kafka(self) -> None:
        """Readiness while idle: does Kafka answer a metadata request?"""
        now = time.monotonic()
        if self.server is None or now - self._probed < PROBE_INTERVAL:
            return
        self._probed = now
        try:
            self._kafka.list_topics(timeout=2)
        except KafkaException as exc:
            self.health.check("kafka", False, f"no metadata from Kafka: {exc.args[0]}")
        else:
            self.health.check("kafka", True, "Kafka answers")

    def _acquire_lock(self, timeout: float | None) -> None:
        began = time.monotonic()
        warned = False
        while not self.store.try_lock():
            if timeout is not None and time.monotonic() - began > timeout:
                raise RuntimeError("another relay holds the outbox lock")
            if not warned:
                log.warning("another relay is publishing this outbox; waiting for its lock")
                self.health.check("lock", False, "waiting for the outbox lock (another relay)")
                warned = True
            self.health.beat()
            if self._stop.wait(BEAT_INTERVAL):
                return

    def publish_batch(self) -> int:
        """Publish and mark one batch; the number of rows published."""
        rows = self.store.fetch_unsent(self.batch_size)
        if not rows:
            return 0
        failures: dict[int, Any] = {}
        for row in rows:
            self._produce(row, failures)
        self._confirm(len(rows))
        if failures:
            first = min(failures)
            self.store.mark_sent([r.seq for r in rows if r.seq < first])
            bad = next(r for r in rows if r.seq == first)
            raise DeliveryError(
                f"outbox row {first} (event {bad.event_id}) refused by Kafka: {failures[first]}",
                event_id=bad.event_id,
                topic=bad.topic,
                error=failures[first],
            )
        self.store.mark_sent([r.seq for r in rows])
        self.stats.published += len(rows)
        self.stats.batches += 1
        if self.on_batch is not None:
            self.on_batch(len(rows))
        return len(rows)

    def _produce(self, row: OutboxRow, failures: dict[int, Any]) -> None:
        record_headers = row.headers
        span = self._start_span(row) if self._tracing else None
        if span is not None:
            record_headers = span[1]

        def delivered(err: Any, _msg: Any) -> None:
            if err is not None:
                failures[row.seq] = err
            if span is not None:
                end_span(span[0], err)

        while True:
            try:
                self._kafka.produce(
                    row.topic,
                    row.value,
                    row.key,
                    on_delivery=delivered,
                    headers=record_headers,  # type: ignore[arg-type]  # list is invariant
                )
                break
            except BufferError:
                self._kafka.poll(0.05)  # full buffer: wait for confirmations, do not grow
        self._kafka.poll(0)

    def _start_span(self, row: OutboxRow) -> tuple[trace.Span, list[tuple[str, bytes]]] | None:
        """The row's send span, a child of the trace the writer stored, and the headers
        that name it."""
        carrier = {k: v.decode() for k, v in row.headers if k in _TRACE_HEADERS}
        parent = propagate.extract(carrier) if carrier else None
        record = Outgoing(row.topic, row.key, row.value, list(row.headers), row.event_id)
        span = self._tracer.start(
            record,
            headers.get(row.headers, headers.EVENT_TYPE) or "unknown",
            headers.get(row.headers, headers.TENANT) or "unknown",
            parent=parent,
        )
        return None if span is None else (span, record.headers)

    def _confirm(self, count: int) -> None:
        began = time.monotonic()
        while self._kafka.flush(5.0) > 0:
            waited = time.monotonic() - began
            self.health.beat()
            unconfirmed = f"{len(self._kafka)} events unconfirmed for {waited:.0f}s"
            self.health.check("kafka", False, unconfirmed)
            log.warning(
                "%d of %d events still unconfirmed after %.0fs; is Kafka reachable?",
                len(self._kafka),
                count,
                waited,
            )
        self.health.check("kafka", True, "Kafka confirms the events")

    def close(self) -> None:
        self._kafka.flush(10.0)
        self.store.close()
        if self.server is not None:
            self.server.close()


__all__ = ["RELAY_OVERRIDES", "Relay", "RelayStats"]
