"""Contract: SIGKILLing worker processes every few seconds during a 50,000-event run loses
nothing, keeps per-key order and duplicates only what the killed processes had in flight.

``frontdesk worker tests.reliability.app:app --processes 3`` (the product's supervisor)
consumes a 6-partition topic while the producer SDK sends 50,000 ordered events over 400
properties at a steady rate. Every few seconds one of the three worker processes (never
the supervisor) is SIGKILLed; the supervisor starts the slot again, and the restarted
process fences its predecessor's transactional id. The run must end with:

* every event handled and its side effect applied, offsets committed to the end;
* per key, no event handled before an earlier one (rewinds after a kill are allowed,
  skips never: see `tests.reliability.checks`);
* duplicates only for events a killed process had handled (at most one handling by a
  process that was never killed), and none in the side-effect table;
* recovery: after each kill, every partition handles again (the dead member's
  partitions move once its 6 s session expires). The time it takes is measured and
  reported, never asserted: the run's behavioural waits have generous deadlines.
"""

from __future__ import annotations

import os
import random
import signal
import statistics
import time
from pathlib import Path

from tests.integration.worker.harness import make_topology
from tests.reliability import report
from tests.reliability.checks import recovery_ms, verdict
from tests.reliability.harness import Scenario, Supervised, committed_to_end, wait_for
from tests.reliability.journal import now_ms
from tests.reliability.stream import PacedProducer, plan
from tests.support.kafka import Cluster

EVENTS = 50_000
KEYS = 400
PROCESSES = 3
RATE = 2_000  # events/s from the producer: ~25 s of production with the workers keeping up
KILL_EVERY = 3.0  # seconds between SIGKILLs
MIN_KILLS = 6


def test_sigkill_workers_every_few_seconds_during_50k_events(
    kafka: Cluster, tmp_path: Path
) -> None:
    began = time.monotonic()
    topology = make_topology(kafka, partitions=6, tiers="1s, 2s")
    scenario = Scenario(kafka, topology, tmp_path)
    planned = plan(EVENTS, keys=KEYS, seed=50_000)
    workers = Supervised(scenario, PROCESSES)
    producer = PacedProducer(kafka.config, topology, planned, rate=RATE)
    kills: list[tuple[int, int]] = []
    """(pid, when, ms since epoch)"""
    rng = random.Random(7)
    try:
        workers.wait_children(PROCESSES)
        producer.start()
        wait_for(lambda: scenario.handled() >= 2_000, 60, "the workers to get going")
        while not producer.done.is_set() or len(kills) < MIN_KILLS:
            time.sleep(KILL_EVERY)
            children = workers.children()
            if scenario.handled() >= EVENTS - 2_000:
                break  # keep the last kill mid-stream, not after the end
            if not children:
                continue
            victim = rng.choice(children)
            os.kill(victim, signal.SIGKILL)
            kills.append((victim, now_ms()))
        figures = producer.join()
        assert not figures.failed, figures.failed[:5]
        assert figures.confirmed == EVENTS
        wait_for(lambda: scenario.handled() >= EVENTS, 180, "every event handled", every=0.5)
        wait_for(
            lambda: committed_to_end(kafka, scenario.group, [scenario.main]),
            60,
            "offsets committed to the end",
            every=0.5,
        )
    finally:
        code = workers.stop()
    elapsed = time.monotonic() - began
    assert code == 0, workers.output()

    result = verdict(scenario, planned)
    result.assert_nothing_lost()
    result.assert_order()
    result.assert_no_duplicate_effects()
    killed = {pid for pid, _ in kills}
    for event_id, ds in result.duplicated.items():
        survivors = [d for d in ds if d.pid not in killed]
        assert len(survivors) <= 1, f"{event_id} handled twice by processes never killed"
    recoveries = [r for _, at in kills if (r := recovery_ms(result.ok, at, scenario.main))]
    assert len(kills) >= MIN_KILLS
    assert workers.output(tail=10**7).count("exited with -9") == len(kills)

    report.record(
        "worker_sigkill",
        {
            **result.figures(),
            "processes": PROCESSES,
            "partitions": 6,
            "kills": len(kills),
            "kill_every_s": KILL_EVERY,
            "worker_pids_seen": len({d.pid for d in result.ok}),
            "max_recovery_ms": max(recoveries),
            "median_recovery_ms": int(statistics.median(recoveries)),
            "max_produce_confirm_ms": figures.max_confirm_ms,
            "runtime_s": round(elapsed, 1),
        },
    )
