"""Contract: with one node of three down, producers keep being acknowledged and nothing is
lost.

On the 3-node cluster (replication factor 3, min.insync.replicas 2), one node is stopped
(SIGKILL, as a crashed host) for ``NODE_DOWN_S`` while the producer SDK (acks=all) sends
and ``frontdesk worker --processes 2`` consumes. The two remaining replicas form the
in-sync set, so sends made while the node is down are acknowledged *during* the outage,
not only after it. Then the node returns and catches up. The run must end with every send
acknowledged and handled, nothing lost, per-key order kept, side effects applied once and
the group's offsets committed to the end.

The issue asks for a minute down; the suite uses ``NODE_DOWN_S`` = 20 s to keep the set
short (the mechanism, two replicas in sync and acknowledging, does not depend on the
length; set ``NODE_DOWN_S = ONE_MINUTE`` for the issue's full minute).
"""

from __future__ import annotations

import time
from pathlib import Path

from frontdesk.broker.cluster import LocalCluster
from tests.reliability.journal import now_ms
from tests.reliability.multinode import Run, busiest_leader, run_with_fault

ONE_MINUTE = 60.0
NODE_DOWN_S = 20.0
EVENTS = 15_000
RATE = 300  # events/s: ~50 s of production, the outage inside it


def test_one_node_down_producers_still_acknowledged(cluster3: LocalCluster, tmp_path: Path) -> None:
    def fault(run: Run) -> None:
        victim = busiest_leader(run.cluster, run.scenario.main)
        run.figures["victim_node"] = victim
        down_at = now_ms()
        run.nodes.node(victim).kill()
        # Past the failover (the dead leader is fenced after 6 s), the SDK's sends are
        # confirmed while the node is still down: count confirmations in the second half.
        time.sleep(NODE_DOWN_S / 2)
        confirmed_mid = run.producer.figures.confirmed
        time.sleep(NODE_DOWN_S / 2)
        run.figures["confirmed_in_second_half_of_outage"] = (
            run.producer.figures.confirmed - confirmed_mid
        )
        assert not run.producer.done.is_set(), "the outage must end while the producer sends"
        run.nodes.node(victim).start(timeout=120)
        run.figures["node_down_ms"] = now_ms() - down_at
        run.wait_replicated()

    outcome = run_with_fault(
        cluster3, tmp_path, "cluster_one_node_down", fault,
        events=EVENTS, rate=RATE, fault_after=1_500, seed=303,
    )  # fmt: skip
    assert outcome.figures["confirmed_in_second_half_of_outage"] > 0
    assert not outcome.sent.failed, outcome.sent.failed[:5]
    assert outcome.sent.confirmed == EVENTS
