"""Contract: a worker commits again after the broker is SIGKILLed and restarted.

Minimal reproduction of what `test_broker_restart.py` finds at scale. One supervised
worker process owns a 1-partition topic on the test's own broker and has handled and
committed 50 events. The broker is SIGKILLed and started again on the same data dir and
port (its coordinators recover from disk). 50 more events are produced once it answers.
The worker takes its partition back and handles them, but its first checkpoint after
the restart never returns: ``send_offsets_to_transaction`` blocks in librdkafka past the
timeout it is given (the transactional producer's cached group coordinator went away),
and the runtime waits for it without a bound. Nothing is committed again, the process
stays alive (so the supervisor restarts nothing), and SIGTERM cannot stop it.

The same call alone, without the runtime, blocks the same way: begin a transaction after
the restart, ``send_offsets_to_transaction(offsets, metadata, 5)``, still blocked after
four minutes (docs/reliability.md, "Findings"; librdkafka 2.16).
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from frontdesk.broker import LocalBroker
from frontdesk.producer import Producer
from tests.integration.worker.harness import make_topology
from tests.reliability.harness import (
    Scenario,
    Supervised,
    cluster_of,
    committed_to_end,
    wait_for,
)
from tests.reliability.stream import plan

RECOVERY_S = 15  # broker back -> the new events handled *and* committed


@pytest.mark.xfail(
    strict=True,
    reason="runtime: the first checkpoint after a broker restart blocks for good in "
    "send_offsets_to_transaction (librdkafka ignores its timeout); nothing bounds it",
)
def test_worker_commits_again_after_a_broker_restart(
    own_broker: LocalBroker, tmp_path: Path
) -> None:
    cluster = cluster_of(own_broker)
    topology = make_topology(cluster, partitions=1, tiers="1s, 2s")
    scenario = Scenario(cluster, topology, tmp_path)
    events = plan(100, keys=10, seed=1)
    workers = Supervised(scenario, 1)
    producer = Producer(config=cluster.config, topology=topology)
    recovered = False
    try:
        for e in events[:50]:
            producer.send(e.event)
        producer.flush(30)
        wait_for(lambda: scenario.handled() >= 50, 60, "the first 50 events")
        wait_for(
            lambda: committed_to_end(cluster, scenario.group, [scenario.main]),
            30,
            "the first 50 committed",
        )

        own_broker.kill()
        own_broker.start(timeout=120)
        back = time.monotonic()
        for e in events[50:]:
            producer.send(e.event)
        producer.flush(60)
        wait_for(lambda: scenario.handled() >= 100, RECOVERY_S, "the next 50 events")
        wait_for(
            lambda: committed_to_end(cluster, scenario.group, [scenario.main]),
            max(1.0, RECOVERY_S - (time.monotonic() - back)),
            "the worker to commit after the broker restart",
        )
        recovered = True
    finally:
        producer.close(10)
        code = workers.stop(30) if recovered else workers.abort()
    assert code == 0, workers.output()
