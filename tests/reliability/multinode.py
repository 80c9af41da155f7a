"""The cluster scenarios' common run: a replicated topology on the 3-node `LocalCluster`,
supervised workers, the producer SDK (acks=all) at a steady pace, one fault in the middle,
then the same end-of-run checks as the single-broker scenarios.

A scenario file supplies its fault (a function of a `Run`, called once the workers are
well under way and while the producer still sends) and reads the figures; `run_with_fault`
does the rest and asserts the common contract: every acknowledged send handled (acked ⊆
handled), nothing lost, per-key order, side effects once, offsets committed to the end.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from confluent_kafka.admin import AdminClient

from frontdesk.broker.cluster import LocalCluster
from tests.integration.worker.harness import make_topology
from tests.reliability import report
from tests.reliability.checks import Verdict, verdict
from tests.reliability.harness import Scenario, Supervised, committed_to_end, wait_for
from tests.reliability.journal import now_ms
from tests.reliability.stream import PacedProducer, ProducerFigures, plan
from tests.support.kafka import Cluster

PARTITIONS = 6
PROCESSES = 2
REPLICAS = 3


def cluster_handle(nodes: LocalCluster) -> Cluster:
    state = nodes.status()
    assert state is not None, "no node of the cluster runs"
    return Cluster(state.client_config(), origin=f"local {len(state.nodes)}-node cluster")


def leaders(cluster: Cluster, topic: str) -> dict[int, int]:
    """Partition -> node id of its leader (-1 while it has none)."""
    meta = AdminClient({**cluster.config, "log_level": 3}).list_topics(topic, timeout=10)
    return {p: m.leader for p, m in meta.topics[topic].partitions.items()}


def busiest_leader(cluster: Cluster, topic: str) -> int:
    """The node leading the most partitions of ``topic`` (every partition is equally busy:
    the stream spreads its keys evenly)."""
    led = list(leaders(cluster, topic).values())
    return max(set(led), key=led.count)


def fully_replicated(cluster: Cluster, topics: list[str]) -> bool:
    """Every partition of ``topics`` has a leader and all its replicas in sync."""
    try:
        meta = AdminClient({**cluster.config, "log_level": 3}).list_topics(timeout=10)
    except Exception:
        return False
    for topic in topics:
        parts = meta.topics[topic].partitions.values()
        if any(p.leader < 0 or len(p.isrs) < len(p.replicas) for p in parts):
            return False
    return True


def restore(nodes: LocalCluster) -> None:
    """Start whatever node a scenario left down, and wait until all answer."""
    for node in nodes.nodes:
        if node.status() is None:
            node.start(timeout=120)


@dataclass
class Run:
    """What a fault function may use and record."""

    nodes: LocalCluster
    cluster: Cluster
    scenario: Scenario
    producer: PacedProducer
    figures: dict[str, Any] = field(default_factory=dict)

    def wait_replicated(self, timeout: float = 120) -> None:
        wait_for(
            lambda: fully_replicated(self.cluster, [self.scenario.main]),
            timeout,
            "every partition back in sync on all replicas",
            every=0.5,
        )


@dataclass
class Outcome:
    result: Verdict
    sent: ProducerFigures
    figures: dict[str, Any]


def run_with_fault(
    nodes: LocalCluster,
    tmp: Path,
    name: str,
    fault: Callable[[Run], None],
    *,
    events: int,
    rate: float,
    fault_after: int,
    seed: int,
    mid_stream: bool = True,
) -> Outcome:
    """Produce ``events`` at ``rate``; after ``fault_after`` are handled, run ``fault``;
    then wait for the end and assert the common contract. Figures go to the report under
    ``name``. ``mid_stream``: the producer must still be sending when the fault starts."""
    began = time.monotonic()
    cluster = cluster_handle(nodes)
    topology = make_topology(
        cluster, partitions=PARTITIONS, tiers="1s, 2s", replication_factor=REPLICAS
    )
    scenario = Scenario(cluster, topology, tmp)
    planned = plan(events, keys=events // 40, seed=seed)
    workers = Supervised(scenario, PROCESSES)
    producer = PacedProducer(cluster.config, topology, planned, rate=rate)
    run = Run(nodes, cluster, scenario, producer)
    figures = run.figures
    figures.update({"events": events, "rate": rate, "partitions": PARTITIONS})
    figures["replicas"] = REPLICAS
    finished = False
    try:
        workers.wait_children(PROCESSES)
        producer.start()
        wait_for(lambda: scenario.handled() >= fault_after, 90, "the workers to get going")
        if mid_stream:
            assert not producer.done.is_set(), "the fault must start while the producer sends"
        fault_ms = now_ms()
        fault(run)
        figures["fault_ms"] = now_ms() - fault_ms
        sent = producer.join(timeout=300)
        figures["confirmed"] = sent.confirmed
        figures["produce_failed"] = len(sent.failed)
        figures["max_produce_confirm_ms"] = sent.max_confirm_ms
        done_ms = now_ms()
        wait_for(lambda: scenario.handled() >= sent.confirmed, 180, "every acked event handled")
        figures["producer_done_to_all_handled_ms"] = now_ms() - done_ms
        wait_for(
            lambda: committed_to_end(cluster, scenario.group, [scenario.main]),
            90,
            "offsets committed to the end",
            every=0.5,
        )
        finished = True
    finally:
        code = workers.stop_or_abort(grace=15) if finished else workers.abort()
        figures["runtime_s"] = round(time.monotonic() - began, 1)
        report.record(name, figures)
    assert code == 0, workers.output()
    result = verdict(scenario, planned)
    acked = set(producer.figures.sent_at_ms) - {f.split(":")[0] for f in sent.failed}
    handled = {d.event_id for d in result.ok}
    assert acked <= handled, f"{len(acked - handled)} acknowledged events never handled"
    if not sent.failed:
        result.assert_nothing_lost()
    result.assert_order()
    result.assert_no_duplicate_effects()
    figures.update(result.figures())
    report.record(name, figures)
    return Outcome(result, sent, figures)


__all__ = [
    "Outcome",
    "Run",
    "busiest_leader",
    "cluster_handle",
    "fully_replicated",
    "leaders",
    "restore",
    "run_with_fault",
]
