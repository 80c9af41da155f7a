"""Contract: ``frontdesk outbox relay`` exports a PRODUCER span per row over OTLP/HTTP when
``OTEL_*`` says so, continuing the trace the PMS request had when it wrote the row
(`Outbox.add` stores its ``traceparent``), and the published record's ``traceparent`` names
the relay's span, so the worker's attempts hang under it."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

from opentelemetry.proto.trace.v1.trace_pb2 import Span as ProtoSpan
from opentelemetry.sdk.trace import TracerProvider

from frontdesk import headers
from frontdesk.outbox import Outbox, open_store
from tests.integration.worker.harness import REPO, eventually, header
from tests.support.kafka import Cluster
from tests.support.otlp import Receiver, otel_env, otlp_receiver  # noqa: F401 - fixture
from tests.support.producing import booking, create_main_topics, topology


async def test_relay_spans_continue_the_writers_trace(
    kafka: Cluster, tmp_path: Path, otlp: Receiver
) -> None:
    topo = topology("relaytrace")
    create_main_topics(kafka, topo)
    url = f"sqlite:///{tmp_path / 'pms.db'}"
    store = open_store(url)
    store.create_table()
    store.close()
    event = booking("acme", "p-1", 1)
    pms = TracerProvider().get_tracer("pms")  # the PMS's own tracing, not exported here
    with pms.start_as_current_span("POST /bookings") as request:
        writer_span = request.get_span_context()
        with sqlite3.connect(tmp_path / "pms.db") as conn:
            Outbox(topo).add(conn, event)

    relay = subprocess.run(
        [sys.executable, "-m", "frontdesk", "outbox", "relay", "--db", url, "--until-empty"],
        cwd=REPO,
        env={**os.environ, **kafka.env(), **otel_env(otlp)},
        capture_output=True,
        check=False,
        timeout=120,
    )
    assert relay.returncode == 0, relay.stderr.decode()[-2000:]
    assert "published 1 events" in relay.stdout.decode()

    topic = topo.main_topic_for(event.queue, "acme")
    await eventually(lambda: bool(otlp.spans), message="the relay's span exported")
    (span,) = otlp.spans
    assert span.name == f"send {topic}"
    assert span.kind == ProtoSpan.SPAN_KIND_PRODUCER
    assert span.service == "frontdesk-outbox-relay"
    assert span.trace_id == format(writer_span.trace_id, "032x")
    assert span.parent_id == format(writer_span.span_id, "016x")
    assert span.attributes["messaging.message.id"] == str(event.meta.event_id)
    assert span.attributes["frontdesk.tenant_id"] == "acme"

    (record,) = kafka.drain(topic, expected=1)
    traceparent = header(record, headers.TRACEPARENT)
    assert traceparent is not None
    assert traceparent.split("-")[1:3] == [span.trace_id, span.span_id]
    names = [k for k, _ in record.headers() or []]
    assert names.count(headers.TRACEPARENT) == 1, "the writer's traceparent was replaced"
