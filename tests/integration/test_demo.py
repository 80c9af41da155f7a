"""`make demo` tells the whole story, and every figure it prints is measured.

Contract: on a real broker the demo provisions its own namespace, runs the four consumer
deployments as worker processes (and the fallback's drain loop) against fake external
systems that are down for a while, sends seeded traffic and three deliberately bad events,
and finishes with every group at the end of its topics: the three bad events are the only
dead letters (one per reason), the OTA outage shows up as retries (and the recovered OTA
receives pushes), the orphan check-out holds its key until an operator acts, and the
messaging provider delivers the requested notifications once it is back.

The report reconciles: per queue and per tenant, produced == handled + via fallback + DLQ
+ held, with nothing unaccounted; what the deployments diverted is what the fallback
deployment handled or dead-lettered. The printed report (at 80 columns) says so.
"""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from rich.console import Console

from frontdesk.cli import demo
from frontdesk.settings import Settings
from producers.demo import DemoOptions, run_demo
from tests.support.kafka import Cluster


def test_demo_runs_to_the_end_and_its_report_adds_up(
    kafka: Cluster, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    said: list[str] = []
    options = DemoOptions(events=400, seed=11, workdir=tmp_path / "demo", ota_outage=8.0)
    settings = Settings(bootstrap_servers=kafka.bootstrap_servers)
    report = run_demo(options, settings, say=said.append)

    assert report.drained, (report.pending, said[-5:])
    counts = report.counts
    assert sorted(counts.dead_letters.items()) == [
        (("operational", "bad_magic"), 1),
        (("operational", "non_retryable"), 1),
        (("operational", "tenant_mismatch"), 1),
    ]
    books = report.reconcile()
    for name, rows in (("queue", books.by_queue()), ("tenant", books.by_tenant())):
        for key, o in rows.items():
            assert o.produced == o.handled + o.via_fallback + o.dlq + o.held, (name, key, o)
            assert o.unaccounted == 0, (name, key, o)
    assert sum(o.produced for o in books.by_queue().values()) == 400 + 3
    assert sum(o.dlq for o in books.by_queue().values()) == 3
    assert books.diverted == books.fallback_done
    assert sum(books.diverted.values()) > 0, "the OTA outage diverted nothing"
    assert sum(counts.retries.values()) > 0
    assert report.ota_pushes > 0
    assert [h.key.endswith("/p-orphan") for h in report.held] == [True]

    messaging = report.messaging
    assert messaging.requested > 0
    assert messaging.refused_during_outage > 0
    assert messaging.delivered == messaging.statuses.get("sent", 0) > 0
    assert messaging.first_delivery_after is not None
    assert messaging.first_delivery_after >= options.messaging_outage
    assert sum(messaging.statuses.values()) == messaging.requested

    out = io.StringIO()
    narrow = Console(file=out, width=80, soft_wrap=True)
    monkeypatch.setattr(demo, "console", narrow)
    demo.print_report(report, options.timeout)
    text = out.getvalue()
    assert "Every produced event is accounted for." in text
    for line in text.splitlines():
        if "│" in line or "┃" in line:
            assert len(line) <= 80, line
