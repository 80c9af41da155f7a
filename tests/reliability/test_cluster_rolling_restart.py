"""Contract: a rolling restart of all three nodes under load loses no acknowledged event.

On the 3-node cluster (replication factor 3, min.insync.replicas 2), the producer SDK
(acks=all) sends ordered events while ``frontdesk worker --processes 2`` consumes. Each
node in turn is stopped gracefully (SIGTERM: a controlled shutdown that moves its
leaderships first), started again, and the next one waits until every partition is back
in sync on all three replicas, as an operator's rolling upgrade does. The run must end
with every send acknowledged and handled, nothing lost, per-key order kept, side effects
applied once and the group's offsets committed to the end.
"""

from __future__ import annotations

from pathlib import Path

from frontdesk.broker.cluster import LocalCluster
from tests.reliability.journal import now_ms
from tests.reliability.multinode import Run, run_with_fault

EVENTS = 21_000
RATE = 300  # events/s: ~70 s of production, long enough for three restarts (~15 s each)


def test_rolling_restart_of_every_node_under_load(cluster3: LocalCluster, tmp_path: Path) -> None:
    def fault(run: Run) -> None:
        restarts: list[int] = []
        for node in run.nodes.nodes:
            began = now_ms()
            assert node.stop(), f"node {node.node_id} was not running"
            node.start(timeout=120)
            run.wait_replicated()
            restarts.append(now_ms() - began)
        run.figures["node_restart_to_in_sync_ms"] = restarts
        run.figures["sent_when_last_node_back"] = run.producer.progress
        assert not run.producer.done.is_set(), "every restart must happen under load"

    outcome = run_with_fault(
        cluster3, tmp_path, "cluster_rolling_restart", fault,
        events=EVENTS, rate=RATE, fault_after=1_500, seed=302,
    )  # fmt: skip
    assert not outcome.sent.failed, outcome.sent.failed[:5]
    assert outcome.sent.confirmed == EVENTS
