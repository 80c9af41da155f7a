"""Contract: the consumer span continues the producer's trace (``traceparent`` header), and
a retried event carries the trace along, so one trace spans every attempt: attempt 2 is a
child of the retry hand-off span, itself a child of attempt 1. (The same chain exported
over OTLP, through both tiers to the DLQ: test_otlp_export.py.)
"""

from __future__ import annotations

from opentelemetry import propagate
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind

import frontdesk
from frontdesk import headers
from frontdesk.events import BookingCreated
from tests.integration.worker.harness import eventually, make_topology, running
from tests.support.events import booking, publish
from tests.support.kafka import Cluster


async def test_consumer_span_continues_the_producer_trace(kafka: Cluster) -> None:
    topology = make_topology(kafka, partitions=1, tiers="1s")
    main = f"{topology.namespace}.pms.operational"
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    tracer = provider.get_tracer("test-producer")

    event = booking("traced")
    with tracer.start_as_current_span("publish BookingCreated", kind=SpanKind.PRODUCER) as span:
        carrier: dict[str, str] = {}
        propagate.inject(carrier)
        producer_trace = span.get_span_context().trace_id
    publish(
        kafka.config,
        main,
        [event],
        extra_headers=[(headers.TRACEPARENT, carrier["traceparent"].encode())],
    )

    app = frontdesk.App("traced", queue="operational")
    attempts: list[int] = []

    @app.handler(BookingCreated)
    async def on_booking(event: BookingCreated, ctx: frontdesk.Context) -> None:
        attempts.append(ctx.attempt)
        if ctx.attempt == 1:
            raise ConnectionError("first attempt fails")

    async with running(app, kafka, topology, tracer_provider=provider):
        await eventually(lambda: attempts == [1, 2], message="two attempts")
        await eventually(
            lambda: sum(s.kind is SpanKind.CONSUMER for s in exporter.get_finished_spans()) == 2
        )

    consumer_spans = [s for s in exporter.get_finished_spans() if s.kind is SpanKind.CONSUMER]
    assert len(consumer_spans) == 2
    first, second = sorted(consumer_spans, key=lambda s: s.start_time or 0)
    assert first.context.trace_id == producer_trace
    assert second.context.trace_id == producer_trace, "the retry stays in the same trace"
    (handoff,) = [s for s in exporter.get_finished_spans() if s.name.startswith("retry ")]
    assert handoff.name == f"retry {main}.retry.1s"
    assert handoff.kind is SpanKind.PRODUCER
    assert handoff.parent is not None
    assert handoff.parent.span_id == first.context.span_id, "the hand-off is attempt 1's child"
    assert second.parent is not None
    assert second.parent.span_id == handoff.context.span_id, "attempt 2 follows the hand-off"
    assert first.attributes is not None
    assert first.attributes["frontdesk.attempt"] == 1
    assert first.attributes["frontdesk.event_id"] == str(event.meta.event_id)
    assert first.status.status_code.name == "ERROR"
