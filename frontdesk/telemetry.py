"""OpenTelemetry for frontdesk processes: traces that follow an event, metrics to scrape.

Library code only ever asks the OpenTelemetry *API* for tracers and meters, so an
application that embeds frontdesk keeps control of its own providers. Entry points that own
the process (``frontdesk worker``) call `setup`, which installs the SDK meter provider:
metrics are exported through the Prometheus reader on an HTTP port, beside the health
endpoints (`frontdesk.health`). Spans are exported only where the standard ``OTEL_*``
environment configures an exporter (`frontdesk.trace_export`).

The worker's instruments are defined here, once per process, because OpenTelemetry
instruments are process-wide and several workers may share a process (tests, benchmarks).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from opentelemetry import metrics, trace
from opentelemetry.exporter.prometheus import PrometheusMetricReader
from opentelemetry.metrics import CallbackOptions, Observation
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import MetricReader
from opentelemetry.sdk.resources import Resource

from frontdesk.health import HealthServer, HealthState

log = logging.getLogger(__name__)

METER_NAME = "frontdesk.worker"
TRACER_NAME = "frontdesk.worker"

_setup_lock = threading.Lock()


class _State:
    """What `setup` already did in this process (providers can be installed only once)."""

    configured = False
    metrics_port: int | None = None
    server: HealthServer | None = None
    instruments: WorkerInstruments | None = None


def setup(
    service_name: str,
    *,
    metrics_port: int | None = None,
    addr: str = "0.0.0.0",
    health: HealthState | None = None,
) -> None:
    """Install the SDK meter provider (once per process) and serve ``/metrics``, with
    ``/healthz`` and ``/readyz`` reporting ``health``, on ``metrics_port``.

    Safe to call twice: the second call only starts the HTTP server if it is not running.
    """
    with _setup_lock:
        if not _State.configured:
            resource = Resource.create({"service.name": service_name})
            readers: list[MetricReader] = []
            if metrics_port is not None:
                readers.append(PrometheusMetricReader())
            metrics.set_meter_provider(MeterProvider(resource=resource, metric_readers=readers))
            _State.configured = True
        if metrics_port is not None and _State.metrics_port is None:
            _State.server = HealthServer(health or HealthState(), metrics_port, addr)
            _State.metrics_port = metrics_port


LagSource = Callable[[], Iterable[tuple[dict[str, str], int]]]


@dataclass(frozen=True, slots=True)
class WorkerInstruments:
    """The worker's metrics; names follow ``frontdesk.<thing>`` and become
    ``frontdesk_<thing>_total`` (counters) in Prometheus."""

    handled: metrics.Counter
    failed: metrics.Counter
    duration: metrics.Histogram
    retries: metrics.Counter
    dead_letters: metrics.Counter
    lateness: metrics.Histogram


_lag_sources: list[LagSource] = []
_gauge_sources: dict[str, list[LagSource]] = {}
"""Worker gauges besides lag, by metric name: each source yields (attributes, value)."""

GAUGES = {
    "frontdesk.worker.tenant_inflight": (
        "{event}",
        "Handlers running now per tenant (tenant fairness on pooled topics).",
    ),
    "frontdesk.worker.held_keys": (
        "{key}",
        "Keys of ordered event types held now (their later events parked), per topic.",
    ),
    "frontdesk.worker.oldest_held_key_age": (
        "s",
        "Seconds since the oldest key held now was held, per topic (alert on keys held long).",
    ),
    "frontdesk.worker.parked_events": (
        "{event}",
        "Events parked behind held keys and not yet run, per topic.",
    ),
    "frontdesk.breaker.open": (
        "1",
        "1 while a dependency's circuit breaker refuses calls (open), else 0.",
    ),
    "frontdesk.tenant.halted": (
        "1",
        "1 for each tenant the DLQ budget halted (its events wait, others flow), per queue.",
    ),
}


def _observe_lag(options: CallbackOptions) -> Iterable[Observation]:
    for source in list(_lag_sources):
        for attributes, lag in source():
            yield Observation(lag, attributes)


def _gauge_callback(name: str) -> Callable[[CallbackOptions], Iterable[Observation]]:
    def observe(options: CallbackOptions) -> Iterable[Observation]:
        for source in list(_gauge_sources.get(name, ())):
            for attributes, value in source():
                yield Observation(value, attributes)

    return observe


def worker_instruments() -> WorkerInstruments:
    """The process-wide worker instruments, created on first use."""
    with _setup_lock:
        if _State.instruments is None:
            meter = metrics.get_meter(METER_NAME)
            _State.instruments = WorkerInstruments(
                handled=meter.create_counter(
                    "frontdesk.events.handled",
                    unit="{event}",
                    description="Events whose handler succeeded, per queue, tenant and type.",
                ),
                failed=meter.create_counter(
                    "frontdesk.events.failed",
                    unit="{event}",
                    description="Handler attempts that raised, or events that could not be "
                    "handled (poison), per queue, tenant and outcome.",
                ),
                duration=meter.create_histogram(
                    "frontdesk.handler.duration",
                    unit="s",
                    description="Time spent in the handler per attempt.",
                ),
                retries=meter.create_counter(
                    "frontdesk.retries",
                    unit="{event}",
                    description="Events committed to a retry tier, per tier.",
                ),
                dead_letters=meter.create_counter(
                    "frontdesk.dlq.dispatches",
                    unit="{event}",
                    description="Events committed to a DLQ, per reason.",
                ),
                lateness=meter.create_histogram(
                    "frontdesk.retry.lateness",
                    unit="ms",
                    description="How long after its due time a retried event started.",
                ),
            )
            meter.create_observable_gauge(
                "frontdesk.consumer.lag",
                callbacks=[_observe_lag],
                unit="{event}",
                description="High watermark minus committed offset, per topic partition.",
            )
            for name, (unit, description) in GAUGES.items():
                meter.create_observable_gauge(
                    name, callbacks=[_gauge_callback(name)], unit=unit, description=description
                )
        return _State.instruments


def register_lag_source(source: LagSource) -> None:
    _lag_sources.append(source)


def unregister_lag_source(source: LagSource) -> None:
    if source in _lag_sources:
        _lag_sources.remove(source)


def register_gauge_source(name: str, source: LagSource) -> None:
    """Feed the worker gauge ``name`` (one of `GAUGES`) from ``source``."""
    _gauge_sources.setdefault(name, []).append(source)


def unregister_gauge_source(name: str, source: LagSource) -> None:
    sources = _gauge_sources.get(name, [])
    if source in sources:
        sources.remove(source)


def tracing_enabled(provider: trace.TracerProvider | None = None) -> bool:
    """Whether spans would be recorded: an SDK (or other real) provider is installed."""
    provider = provider or trace.get_tracer_provider()
    return not isinstance(provider, trace.ProxyTracerProvider | trace.NoOpTracerProvider)


def metrics_enabled() -> bool:
    """Whether a meter provider is installed (otherwise hot paths skip recording)."""
    provider = metrics.get_meter_provider()
    return type(provider).__name__ not in ("_ProxyMeterProvider", "NoOpMeterProvider")


def tracer(provider: trace.TracerProvider | None = None) -> trace.Tracer:
    return trace.get_tracer(TRACER_NAME, tracer_provider=provider)


__all__ = [
    "WorkerInstruments",
    "metrics_enabled",
    "register_gauge_source",
    "register_lag_source",
    "setup",
    "tracer",
    "tracing_enabled",
    "unregister_gauge_source",
    "unregister_lag_source",
    "worker_instruments",
]
