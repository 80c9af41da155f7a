"""Contract: spans leave the process over OTLP/HTTP when the standard ``OTEL_*`` variables
say so, and one event's journey is one trace with the right parent chain:

    send <main>                      frontdesk produce (the producer SDK)
    └ operational process  #1        worker, on the main topic
      └ retry <main>.retry.1s
        └ operational process  #2    on the 1s tier
          └ retry <main>.retry.2s
            └ operational process  #3 on the 2s tier
              └ dead-letter <main>.dlq

The receiver is a real HTTP server in the test that decodes the protobuf
``ExportTraceServiceRequest`` bodies with opentelemetry-proto; the producer and the worker
are separate processes configured only by the environment. The dead letter's
``traceparent`` names the dead-letter span, so a redrive continues the same trace.
"""

from __future__ import annotations

import gzip
import json
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)
from opentelemetry.proto.trace.v1.trace_pb2 import Span as ProtoSpan

from frontdesk import headers
from tests.integration.worker.harness import (
    REPO,
    WorkerProcess,
    eventually,
    header,
    make_topology,
    read_committed,
    write_topology,
)
from tests.support.events import booking
from tests.support.kafka import Cluster


@dataclass(frozen=True)
class Received:
    service: str
    name: str
    kind: int
    trace_id: str
    span_id: str
    parent_id: str
    attributes: dict[str, Any]


class Receiver:
    """An OTLP/HTTP traces endpoint: ``POST /v1/traces`` with a protobuf body."""

    def __init__(self) -> None:
        self.spans: list[Received] = []
        self.requests = 0
        spans, lock = self.spans, threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                if self.headers.get("Content-Encoding") == "gzip":
                    body = gzip.decompress(body)
                ok = self.path == "/v1/traces"
                ok = ok and self.headers["Content-Type"] == "application/x-protobuf"
                if ok:
                    request = ExportTraceServiceRequest.FromString(body)
                    with lock:
                        receiver.requests += 1
                        spans.extend(_decode(request))
                payload = ExportTraceServiceResponse().SerializeToString() if ok else b""
                self.send_response(200 if ok else 400)
                self.send_header("Content-Type", "application/x-protobuf")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, format: str, *args: Any) -> None:
                return

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.endpoint = f"http://127.0.0.1:{self._server.server_address[1]}"
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()


def _value(any_value: Any) -> Any:
    return getattr(any_value, any_value.WhichOneof("value"))


def _decode(request: ExportTraceServiceRequest) -> Iterator[Received]:
    for resource_spans in request.resource_spans:
        resource = {a.key: _value(a.value) for a in resource_spans.resource.attributes}
        for scope_spans in resource_spans.scope_spans:
            for span in scope_spans.spans:
                yield Received(
                    service=resource.get("service.name", ""),
                    name=span.name,
                    kind=span.kind,
                    trace_id=span.trace_id.hex(),
                    span_id=span.span_id.hex(),
                    parent_id=span.parent_span_id.hex(),
                    attributes={a.key: _value(a.value) for a in span.attributes},
                )


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver()
    try:
        yield r
    finally:
        r.close()


async def test_one_event_is_one_exported_trace(
    kafka: Cluster, tmp_path: Path, receiver: Receiver
) -> None:
    topology = make_topology(kafka, partitions=1, tiers="1s, 2s")
    main = f"{topology.namespace}.pms.operational"
    otel = {
        "OTEL_TRACES_EXPORTER": "otlp",
        "OTEL_EXPORTER_OTLP_ENDPOINT": receiver.endpoint,
        "OTEL_BSP_SCHEDULE_DELAY": "200",
    }
    worker = WorkerProcess(kafka, topology, tmp_path, env=otel, target="tests.support.apps:tiered")
    event = booking("fail-1")
    try:
        sent = subprocess.run(
            [sys.executable, "-m", "frontdesk", "produce", "BookingCreated", "--json",
             json.dumps(event.model_dump(mode="json"))],
            cwd=REPO,
            env={
                **os.environ,
                **kafka.env(),
                **otel,
                "FRONTDESK_TOPOLOGY": str(write_topology(topology, tmp_path / "produce.yaml")),
            },
            capture_output=True,
            check=False,
            timeout=120,
        )  # fmt: skip
        assert sent.returncode == 0, sent.stderr.decode()

        def dead_lettered() -> bool:
            return any(s.name == f"dead-letter {main}.dlq" for s in receiver.spans)

        await eventually(dead_lettered, timeout=90, message="the dead-letter span exported")
        await eventually(
            lambda: sum(s.kind == ProtoSpan.SPAN_KIND_CONSUMER for s in receiver.spans) >= 3,
            message="three attempt spans exported",
        )
    finally:
        code = worker.stop()
    assert code == 0, worker.output()[-3000:]

    spans = receiver.spans
    (produce,) = [s for s in spans if s.name == f"send {main}"]
    assert produce.kind == ProtoSpan.SPAN_KIND_PRODUCER
    assert produce.service == "frontdesk-producer"
    assert produce.attributes["messaging.message.id"] == str(event.meta.event_id)
    trace_id = produce.trace_id
    ours = [s for s in spans if s.trace_id == trace_id]
    assert len(ours) == 7, [s.name for s in ours]
    by_id = {s.span_id: s for s in ours}

    chain = [produce]
    while (children := [s for s in ours if s.parent_id == chain[-1].span_id]) and len(chain) < 8:
        assert len(children) == 1, [c.name for c in children]
        chain.append(children[0])
    assert [s.name for s in chain] == [
        f"send {main}",
        "operational process",
        f"retry {main}.retry.1s",
        "operational process",
        f"retry {main}.retry.2s",
        "operational process",
        f"dead-letter {main}.dlq",
    ]
    attempts = chain[1::2]
    assert [a.attributes["frontdesk.attempt"] for a in attempts] == [1, 2, 3]
    assert [a.attributes["messaging.destination.name"] for a in attempts] == [
        main,
        f"{main}.retry.1s",
        f"{main}.retry.2s",
    ]
    assert all(a.kind == ProtoSpan.SPAN_KIND_CONSUMER for a in attempts)
    assert all(a.service == "frontdesk-tiered" for a in attempts)
    assert all(a.attributes["frontdesk.event_id"] == str(event.meta.event_id) for a in attempts)
    handoffs = chain[2::2]
    assert all(h.kind == ProtoSpan.SPAN_KIND_PRODUCER for h in handoffs)
    assert [h.attributes["frontdesk.handoff"] for h in handoffs] == [
        "retry",
        "retry",
        "dead-letter",
    ]
    assert set(by_id) == {s.span_id for s in chain}, "no stray span in the trace"

    (dead,) = read_committed(kafka, f"{main}.dlq", 1)
    assert header(dead, headers.TRACE_ID) == trace_id
    traceparent = header(dead, headers.TRACEPARENT)
    assert traceparent is not None
    assert traceparent.split("-")[1:3] == [trace_id, chain[-1].span_id]
