"""Contract: the Grafana dashboard (``deploy/grafana/frontdesk-workers.json``) and the
Prometheus alerting rules (``deploy/prometheus/frontdesk-alerts.yaml``) name only metrics,
and labels, that a running worker exports: scraped from ``frontdesk worker
--metrics-port`` after it handled events, retried one, dead-lettered one (holding its key)
and learned a dependency's circuit breaker. A renamed metric breaks this test, not a
dashboard nobody looks at until the night it is needed.
"""

from __future__ import annotations

import json
import re
from collections import defaultdict
from pathlib import Path
from typing import Any

import yaml
from prometheus_client.parser import text_string_to_metric_families

from tests.integration.worker.harness import REPO, WorkerProcess, make_topology, scrape_until
from tests.support.events import booking, publish
from tests.support.http import free_port, sample
from tests.support.kafka import Cluster

DASHBOARD = REPO / "deploy" / "grafana" / "frontdesk-workers.json"
ALERTS = REPO / "deploy" / "prometheus" / "frontdesk-alerts.yaml"
_METRIC = re.compile(r"\b(frontdesk_[a-z0-9_]+)")
_MATCHERS = re.compile(r"\{([^}]*)\}")
_MATCHER_LABEL = re.compile(r"([a-zA-Z_][a-zA-Z0-9_]*)\s*(?:=~|!~|!=|=)")
_BY = re.compile(r"\bby\s*\(([^)]*)\)")


def dashboard_exprs() -> list[str]:
    dash = json.loads(DASHBOARD.read_text())
    ids = [p["id"] for p in dash["panels"]]
    assert len(ids) == len(set(ids)), "panel ids are unique"
    exprs = []
    for panel in dash["panels"]:
        for target in panel.get("targets", []):
            assert target["datasource"]["uid"] == "${datasource}"
            exprs.append(target["expr"])
    return exprs


def alert_exprs() -> list[str]:
    rules = yaml.safe_load(ALERTS.read_text())
    exprs = []
    for group in rules["groups"]:
        for rule in group["rules"]:
            assert {"alert", "expr", "for", "labels", "annotations"} <= rule.keys(), rule
            assert rule["labels"]["severity"] in ("warning", "critical")
            assert rule["annotations"]["summary"]
            exprs.append(rule["expr"])
    names = [r["alert"] for g in rules["groups"] for r in g["rules"]]
    assert names == [
        "FrontdeskConsumerLagGrowing",
        "FrontdeskDeadLettersPerTenant",
        "FrontdeskHeldKeyStuck",
        "FrontdeskCircuitBreakerOpen",
    ]
    return exprs


def referenced(expr: str) -> tuple[set[str], set[str]]:
    """The metric names and label names (``le`` aside) a PromQL expression uses."""
    metrics = set(_METRIC.findall(expr))
    labels = {m for inner in _MATCHERS.findall(expr) for m in _MATCHER_LABEL.findall(inner)}
    labels |= {lb.strip() for inner in _BY.findall(expr) for lb in inner.split(",") if lb.strip()}
    return metrics, labels - {"le"}


def exported(text: str) -> dict[str, set[str]]:
    """Sample name -> label names seen on it."""
    out: dict[str, set[str]] = defaultdict(set)
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            out[s.name] |= set(s.labels)
    return out


async def test_dashboard_and_alerts_name_only_exported_metrics(
    kafka: Cluster, tmp_path: Path
) -> None:
    exprs = dashboard_exprs() + alert_exprs()
    topology = make_topology(kafka, partitions=1, tiers="1s")
    main = f"{topology.namespace}.pms.operational"
    events: list[Any] = [booking(f"ok-{i}", tenant_id="acme") for i in range(3)]
    events += [
        booking("flaky-1", tenant_id="beta", property_id="p-flaky"),  # a retry
        booking("perm-1", tenant_id="beta", property_id="p-perm"),  # a dead letter, key held
        booking("dep-1", tenant_id="beta", property_id="p-dep"),  # a learned breaker
    ]
    publish(kafka.config, main, events)
    port = free_port()
    worker = WorkerProcess(kafka, topology, tmp_path, "--metrics-port", str(port))
    try:

        def complete(text: str) -> bool:
            return (
                sample(text, "frontdesk_events_handled_total") == 5
                and sample(text, "frontdesk_dlq_dispatches_total") == 1
                and sample(text, "frontdesk_worker_held_keys") == 1
                and sample(text, "frontdesk_breaker_open", dependency="channel-manager") == 0
                and sample(text, "frontdesk_consumer_lag") is not None
            )

        text = await scrape_until(port, complete, 60, "every outcome in the metrics")
    finally:
        assert worker.stop() == 0, worker.output()[-2000:]

    available = exported(text)
    missing: list[str] = []
    for expr in exprs:
        metrics, labels = referenced(expr)
        assert metrics, f"no frontdesk metric in {expr!r}"
        for metric in sorted(metrics):
            if metric not in available:
                missing.append(f"{metric} (in {' '.join(expr.split())!r})")
        carried = set().union(*(available.get(m, set()) for m in metrics))
        for label in sorted(labels - carried):
            missing.append(f"label {label} of {sorted(metrics)}")
    assert not missing, "named but not exported:\n" + "\n".join(missing)
    assert sample(text, "frontdesk_worker_oldest_held_key_age_seconds", topic=main) is not None
