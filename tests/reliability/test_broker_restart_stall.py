"""Contract: a worker commits again after the broker is SIGKILLed and restarted.

Minimal reproduction of what `test_broker_restart.py` finds at scale. One supervised
worker process owns a 1-partition topic on the test's own broker and has handled and
committed 50 events. The broker is SIGKILLed and started again on the same data dir and
port (its coordinators recover from disk). 50 more events are produced once it answers.
They must be handled *and committed*, and the worker must stop cleanly at the end.

The first checkpoint after the restart used to never return: ``send_offsets_to_transaction``
blocks in librdkafka past the timeout it is given (the transactional producer's cached
group coordinator went away; the same call alone, without the runtime, was still blocked
after four minutes, librdkafka 2.16), and the runtime waited for it without a bound.
Now every transactional call is bounded: past its timeout plus a margin the producer is
broken, the process exits 1 and the supervisor restarts the slot, whose
``init_transactions`` fences the old producer and aborts its transaction
(docs/reliability.md, "Findings" 3). The time from the broker's return to the last
commit is reported, not asserted; the deadline below only stops a hung run.
"""

from __future__ import annotations

import re
import time
from pathlib import Path

from frontdesk.broker import LocalBroker
from frontdesk.producer import Producer
from tests.integration.worker.harness import make_topology
from tests.reliability import report
from tests.reliability.harness import (
    Scenario,
    Supervised,
    cluster_of,
    committed_to_end,
    wait_for,
)
from tests.reliability.stream import plan

DEADLINE_S = 180  # broker back -> the new events handled *and* committed (a hung run)


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
        wait_for(lambda: scenario.handled() >= 100, DEADLINE_S, "the next 50 events")
        handled_s = time.monotonic() - back
        wait_for(
            lambda: committed_to_end(cluster, scenario.group, [scenario.main]),
            max(1.0, DEADLINE_S - (time.monotonic() - back)),
            "the worker to commit after the broker restart",
            every=0.5,
        )
        committed_s = time.monotonic() - back
        recovered = True
    finally:
        producer.close(10)
        code = workers.stop(30) if recovered else workers.abort()
    log = workers.output(tail=10**8)
    report.record(
        "broker_restart_stall",
        {
            "broker_back_to_all_handled_s": round(handled_s, 1),
            "broker_back_to_committed_s": round(committed_s, 1),
            "worker_process_exits": re.findall(r"exited with (\S+);", log),
        },
    )
    assert code == 0, log[-4000:]
