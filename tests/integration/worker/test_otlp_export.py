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

import json
import os
import subprocess
import sys
from pathlib import Path

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
from tests.support.otlp import Receiver, otel_env, otlp_receiver  # noqa: F401 - fixture


async def test_one_event_is_one_exported_trace(
    kafka: Cluster, tmp_path: Path, otlp: Receiver
) -> None:
    topology = make_topology(kafka, partitions=1, tiers="1s, 2s")
    main = f"{topology.namespace}.pms.operational"
    otel = otel_env(otlp)
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
            return any(s.name == f"dead-letter {main}.dlq" for s in otlp.spans)

        await eventually(dead_lettered, timeout=90, message="the dead-letter span exported")
        await eventually(
            lambda: sum(s.kind == ProtoSpan.SPAN_KIND_CONSUMER for s in otlp.spans) >= 3,
            message="three attempt spans exported",
        )
    finally:
        code = worker.stop()
    assert code == 0, worker.output()[-3000:]

    spans = otlp.spans
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
