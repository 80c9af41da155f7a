"""Contract: with two nodes of three down, a send is never acknowledged and then lost, and
the workers stop committing until the nodes return, then finish the stream.

On the 3-node cluster (replication factor 3, min.insync.replicas 2), two nodes are
SIGKILLed for ``TWO_DOWN_S`` while the producer SDK (acks=all) sends and ``frontdesk
worker --processes 2`` consumes. One node alone has neither a controller quorum nor an
in-sync pair, so:

* no send is acknowledged during the outage: the running SDK producer's confirmations
  stop, and a probe producer with a short ``message.timeout.ms`` gets a clear delivery
  error naming the cause (never a success);
* the group's committed offsets do not move while the nodes are down (when they can be
  read at all);
* once the nodes return, the SDK producer's buffered sends are acknowledged (the outage
  is shorter than its ``message.timeout.ms``, 120 s), every acknowledged send is handled
  (acked ⊆ handled), nothing is lost, per-key order holds, side effects happen once, and
  the offsets are committed to the end.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest

from frontdesk.broker.cluster import LocalCluster
from frontdesk.errors import DeliveryError
from frontdesk.producer import Producer
from tests.integration.worker.harness import make_topology
from tests.reliability.journal import now_ms
from tests.reliability.multinode import PARTITIONS, REPLICAS, Run, busiest_leader, run_with_fault

TWO_DOWN_S = 20.0
EVENTS = 12_000
RATE = 300  # events/s: ~40 s of production, the outage inside it
SETTLE_S = 3.0  # sends already replicated when the nodes died may still be confirmed


def _committed(run: Run) -> dict[int, int] | None:
    """The group's committed offsets, or None when no node can answer for them."""
    try:
        return run.cluster.committed(run.scenario.group, run.scenario.main)
    except Exception:
        return None


def test_two_nodes_down_no_ack_then_loss(cluster3: LocalCluster, tmp_path: Path) -> None:
    def fault(run: Run) -> None:
        probe_topology = make_topology(
            run.cluster, partitions=PARTITIONS, replication_factor=REPLICAS
        )
        short: dict[str, Any] = {"message.timeout.ms": 8000}
        probe = Producer(config=run.cluster.config, topology=probe_topology, **short)
        survivor = busiest_leader(run.cluster, run.scenario.main)
        victims = [n for n in run.nodes.nodes if n.node_id != survivor]
        down_at = now_ms()
        for node in victims:
            node.kill()
        time.sleep(SETTLE_S)
        confirmed_before = run.producer.figures.confirmed
        committed_before = _committed(run)
        with pytest.raises(DeliveryError) as refused:
            probe.send(run.producer.events[0].event).result(timeout=30)
        run.figures["probe_error"] = str(refused.value)[:200]
        time.sleep(max(0.0, TWO_DOWN_S - (now_ms() - down_at) / 1000))
        run.figures["confirmed_while_two_down"] = run.producer.figures.confirmed - confirmed_before
        committed_after = _committed(run)
        run.figures["committed_readable_while_down"] = (
            committed_before is not None and committed_after is not None
        )
        if committed_before is not None and committed_after is not None:
            assert committed_after == committed_before, "offsets committed without a quorum"
        up_at = now_ms()
        for node in victims:
            node.start(timeout=120)
        run.figures["nodes_down_ms"] = up_at - down_at
        run.figures["nodes_back_ms"] = now_ms() - up_at
        run.wait_replicated()
        probe.close(timeout=5)

    outcome = run_with_fault(
        cluster3, tmp_path, "cluster_two_nodes_down", fault,
        events=EVENTS, rate=RATE, fault_after=1_500, seed=304,
    )  # fmt: skip
    assert outcome.figures["confirmed_while_two_down"] == 0
    assert not outcome.sent.failed, outcome.sent.failed[:5]
    assert outcome.sent.confirmed == EVENTS
