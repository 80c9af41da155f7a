"""Contract: on a 3-node cluster (replication factor 3, min.insync.replicas 2), SIGKILLing
the node that leads the most partitions mid-stream loses no acknowledged event.

The producer SDK (acks=all, idempotent) sends ordered events to a 6-partition topic while
``frontdesk worker --processes 2`` consumes it. Once the workers are under way, the node
leading the most partitions of the main topic is SIGKILLed (no controlled shutdown: its
leaderships move only when the controller quorum sees it gone) and started again
``DOWN_S`` later. Two replicas stay in sync throughout, so sends keep being acknowledged.
The run must end with every acknowledged send handled (acked ⊆ handled), nothing lost,
per-key order kept, side effects applied once, and the group's offsets committed to the
end. How long the leaderless partitions took to handle again is reported, not asserted.
"""

from __future__ import annotations

import time
from pathlib import Path

from frontdesk.broker.cluster import LocalCluster
from tests.reliability import report
from tests.reliability.checks import recovery_ms
from tests.reliability.journal import now_ms
from tests.reliability.multinode import Run, busiest_leader, leaders, run_with_fault

EVENTS = 9_000
RATE = 300  # events/s: ~30 s of production; the kill comes while it sends
DOWN_S = 12.0


def test_sigkill_busiest_leader_mid_stream(cluster3: LocalCluster, tmp_path: Path) -> None:
    killed: dict[str, int] = {}

    def fault(run: Run) -> None:
        main = run.scenario.main
        victim = busiest_leader(run.cluster, main)
        run.figures["victim_node"] = victim
        run.figures["partitions_led_by_victim"] = list(leaders(run.cluster, main).values()).count(
            victim
        )
        killed["at"] = now_ms()
        run.nodes.node(victim).kill()
        time.sleep(DOWN_S)
        run.figures["leaders_while_down"] = leaders(run.cluster, main)
        run.nodes.node(victim).start(timeout=120)
        run.figures["node_down_ms"] = now_ms() - killed["at"]
        run.wait_replicated()

    outcome = run_with_fault(
        cluster3, tmp_path, "cluster_leader_sigkill", fault,
        events=EVENTS, rate=RATE, fault_after=1_500, seed=301,
    )  # fmt: skip
    assert not outcome.sent.failed, outcome.sent.failed[:5]
    assert outcome.sent.confirmed == EVENTS
    victim = outcome.figures["victim_node"]
    assert victim not in outcome.figures["leaders_while_down"].values(), "a dead leader"
    main = next(d.topic for d in outcome.result.ok if d.topic.endswith(".pms.operational"))
    outcome.figures["recovery_after_kill_ms"] = recovery_ms(outcome.result.ok, killed["at"], main)
    report.record("cluster_leader_sigkill", outcome.figures)
