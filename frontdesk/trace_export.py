"""Spans leave the process: a tracer provider built from the standard ``OTEL_*`` variables.

Tracing is installed only when an exporter is configured, because a tracer provider
costs a span per record on the worker's hot path even when nothing reads the spans;
without one the runtime skips the span work entirely (`frontdesk.telemetry.tracing_enabled`).

What counts as configured (the OpenTelemetry spec's variables, one deliberate difference):

* ``OTEL_TRACES_EXPORTER``: a comma-separated list of ``otlp`` (OTLP over HTTP, protobuf)
  and ``console`` (spans printed to stdout, for local use), or ``none``. Unset, it is
  ``otlp`` when ``OTEL_EXPORTER_OTLP_ENDPOINT`` or ``OTEL_EXPORTER_OTLP_TRACES_ENDPOINT``
  is set, and ``none`` otherwise (the spec's default is ``otlp``: sending to a collector
  nobody started would only cost throughput and log errors).
* The OTLP exporter reads its own variables: ``OTEL_EXPORTER_OTLP_[TRACES_]ENDPOINT``,
  ``_HEADERS``, ``_TIMEOUT``, ``_COMPRESSION``, ``_CERTIFICATE``; spans are batched
  (``OTEL_BSP_*``). Only the ``http/protobuf`` protocol ships; another
  ``OTEL_EXPORTER_OTLP_[TRACES_]PROTOCOL`` is refused with one clear line.
* ``OTEL_SERVICE_NAME`` / ``OTEL_RESOURCE_ATTRIBUTES`` name the service (default: the
  name the entry point passes, e.g. ``frontdesk-<app>``); ``OTEL_SDK_DISABLED=true`` turns
  tracing off.

A process that already installed its own tracer provider keeps it: nothing is replaced.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Mapping

from opentelemetry import trace
from opentelemetry.sdk.resources import SERVICE_NAME, Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, ConsoleSpanExporter, SpanExporter

from frontdesk.errors import FrontdeskError
from frontdesk.telemetry import tracing_enabled

log = logging.getLogger(__name__)

EXPORTERS = ("otlp", "console")
PROTOCOL = "http/protobuf"
_lock = threading.Lock()


class TracingConfigError(FrontdeskError, ValueError):
    """An ``OTEL_*`` variable asks for something this installation cannot do."""


def exporter_names(env: Mapping[str, str] | None = None) -> list[str]:
    """The span exporters the environment asks for (empty: tracing off)."""
    env = os.environ if env is None else env
    if env.get("OTEL_SDK_DISABLED", "").strip().lower() == "true":
        return []
    raw = env.get("OTEL_TRACES_EXPORTER", "").strip()
    if not raw:
        endpoints = ("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "OTEL_EXPORTER_OTLP_ENDPOINT")
        names = ["otlp"] if any(env.get(v, "").strip() for v in endpoints) else []
    else:
        names = list(dict.fromkeys(n.strip().lower() for n in raw.split(",") if n.strip()))
        if names == ["none"]:
            return []
        if "none" in names:
            raise TracingConfigError(
                f"OTEL_TRACES_EXPORTER={raw!r}: none cannot be combined with other exporters"
            )
        unknown = [n for n in names if n not in EXPORTERS]
        if unknown:
            raise TracingConfigError(
                f"OTEL_TRACES_EXPORTER={raw!r}: unknown exporter {unknown[0]!r} "
                f"(use {', '.join(EXPORTERS)} or none)"
            )
    if "otlp" in names:
        for var in ("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", "OTEL_EXPORTER_OTLP_PROTOCOL"):
            protocol = env.get(var, "").strip()
            if protocol:
                if protocol != PROTOCOL:
                    raise TracingConfigError(
                        f"{var}={protocol!r}: only {PROTOCOL} is supported (OTLP over HTTP)"
                    )
                break
    return names


def _exporter(name: str) -> SpanExporter:
    if name == "console":
        return ConsoleSpanExporter()
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import (  # noqa: PLC0415
        OTLPSpanExporter,  # imported only when used: it pulls in requests and protobuf
    )

    return OTLPSpanExporter()


def install_tracing(
    service_name: str, env: Mapping[str, str] | None = None
) -> TracerProvider | None:
    """Install the global tracer provider the environment configures; the provider, or
    ``None`` when no exporter is configured or the process already has a provider.

    Raises `TracingConfigError` for a variable it cannot honour.
    """
    with _lock:
        if tracing_enabled():
            return None
        names = exporter_names(env)
        if not names:
            return None
        resource = Resource.create()
        if str(resource.attributes.get(SERVICE_NAME, "")).startswith("unknown_service"):
            resource = resource.merge(Resource({SERVICE_NAME: service_name}))
        provider = TracerProvider(resource=resource)
        for name in names:
            provider.add_span_processor(BatchSpanProcessor(_exporter(name)))
        trace.set_tracer_provider(provider)
        service = resource.attributes[SERVICE_NAME]
        log.info("traces exported by %s (service %s)", "+".join(names), service)
        return provider


def flush_traces(timeout_s: float = 2.0) -> None:
    """Export the spans still batched (before a process exits without running atexit)."""
    provider = trace.get_tracer_provider()
    if isinstance(provider, TracerProvider):
        provider.force_flush(int(timeout_s * 1000))


__all__ = ["TracingConfigError", "exporter_names", "flush_traces", "install_tracing"]
