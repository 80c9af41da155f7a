"""Contract: ``frontdesk worker --metrics-port P`` serves Prometheus metrics: events handled
and failed per queue and tenant, the handler latency histogram, retries per tier, DLQ
dispatches per reason, retry lateness and consumer lag.
"""

from __future__ import annotations

from pathlib import Path

from tests.integration.worker.harness import WorkerProcess, make_topology, scrape_until
from tests.support.events import booking, publish
from tests.support.http import free_port, sample
from tests.support.kafka import Cluster


async def test_metrics_endpoint_serves_the_counters(kafka: Cluster, tmp_path: Path) -> None:
    topology = make_topology(kafka, partitions=1, tiers="1s")
    main = f"{topology.namespace}.pms.operational"
    events = [booking(f"ok-{i}", tenant_id="acme") for i in range(5)]
    # Two properties: BookingCreated is ordered, so on one property perm-1 would be parked
    # behind flaky-1 until its retry succeeds.
    events += [
        booking("flaky-1", tenant_id="beta"),
        booking("perm-1", tenant_id="beta", property_id="porto-1"),
    ]
    publish(kafka.config, main, events)
    port = free_port()
    worker = WorkerProcess(kafka, topology, tmp_path, "--metrics-port", str(port))
    try:

        def complete(text: str) -> bool:
            handled = sample(text, "frontdesk_events_handled_total", tenant="beta")
            return handled == 1 and sample(text, "frontdesk_consumer_lag") is not None

        text = await scrape_until(port, complete, message="metrics for every outcome")
    finally:
        assert worker.stop() == 0, worker.output()[-2000:]

    op = {"queue": "operational"}
    assert sample(text, "frontdesk_events_handled_total", tenant="acme", **op) == 5
    assert sample(text, "frontdesk_events_failed_total", outcome="retry", tenant="beta") == 1
    assert sample(text, "frontdesk_events_failed_total", outcome="dlq", tenant="beta") == 1
    assert sample(text, "frontdesk_retries_total", tier="1s", **op) == 1
    assert sample(text, "frontdesk_dlq_dispatches_total", reason="non_retryable", **op) == 1
    assert sample(text, "frontdesk_handler_duration_seconds_count", tenant="acme") == 5
    assert sample(text, "frontdesk_retry_lateness_milliseconds_count", **op) == 1
    assert sample(text, "frontdesk_consumer_lag", topic=main, partition="0") == 0
