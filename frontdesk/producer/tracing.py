"""The PRODUCER span around each send, and W3C trace context in the record's headers.

A consumer continues the trace from the `traceparent` header, so one trace follows an
event from the PMS call that sent it through every retry to its final handler. The span
ends when Kafka confirms (or refuses) the event, so its duration is the delivery latency.
When no OpenTelemetry SDK is configured the tracer is a no-op: then only an enclosing
context the PMS already has is propagated, and the hot path skips the span work. A
producer built in a process without a tracer provider installs the one the standard
``OTEL_*`` variables configure, if any (`frontdesk.trace_export`).
"""

from __future__ import annotations

from opentelemetry import propagate, trace
from opentelemetry.context import Context
from opentelemetry.trace import Span, SpanKind, Status, StatusCode, TracerProvider

from frontdesk.producer.routing import Header, Outgoing

TRACER_NAME = "frontdesk"


class SendTracer:
    """Starts send spans and writes the context they carry into record headers."""

    def __init__(self, tracer_provider: TracerProvider | None = None) -> None:
        self._tracer = trace.get_tracer(TRACER_NAME, tracer_provider=tracer_provider)

    def start(
        self, record: Outgoing, event_type: str, tenant_id: str, parent: Context | None = None
    ) -> Span | None:
        """Start the span for `record` (a child of ``parent``, default: the current span)
        and set `traceparent` (and `tracestate`) in its headers to it.

        Returns the span to end on delivery, or None when tracing is off.
        """
        span = self._tracer.start_span(
            f"send {record.topic}", context=parent, kind=SpanKind.PRODUCER
        )
        if span.is_recording():
            span.set_attributes(
                {
                    "messaging.system": "kafka",
                    "messaging.operation.type": "send",
                    "messaging.destination.name": record.topic,
                    "messaging.message.id": record.event_id,
                    "messaging.kafka.message.key": record.key.decode(),
                    "frontdesk.event_type": event_type,
                    "frontdesk.tenant_id": tenant_id,
                }
            )
            _inject(record.headers, trace.set_span_in_context(span))
            return span
        if trace.get_current_span().get_span_context().is_valid:
            _inject(record.headers, None)  # no SDK here, but pass on the caller's trace
        return None


def end_span(span: Span, error: object | None) -> None:
    """End a send span, marking it failed with Kafka's error if there was one."""
    if error is not None:
        span.set_status(Status(StatusCode.ERROR, str(error)))
    span.end()


def _inject(headers: list[Header], context: Context | None) -> None:
    """Set the trace headers to ``context``, replacing any the record already carried."""
    carrier: dict[str, str] = {}
    propagate.inject(carrier, context=context)
    if any(name in carrier for name, _ in headers):
        headers[:] = [(name, value) for name, value in headers if name not in carrier]
    headers.extend((name, value.encode()) for name, value in carrier.items())


__all__ = ["TRACER_NAME", "SendTracer", "end_span"]
