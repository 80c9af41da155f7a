"""Contract: SIGKILLing the broker mid-stream and starting it again on the same data
directory and port loses nothing and keeps per-key order; the producer SDK and the worker
processes recover by themselves, with nobody restarting them.

The scenario runs its *own* single-node broker (a `LocalBroker` in the test's tmp dir, on a
free port), never the session's. ``frontdesk worker tests.reliability.app:app --processes
2`` (the product's supervisor) consumes a 6-partition topic while the producer SDK sends
ordered events over 200 properties at a steady rate, keeping every delivery handle. Once
the workers are well under way the broker is SIGKILLed (`LocalBroker.kill`) and started
again at once (`LocalBroker.start`, same data dir and port): its log, its group
coordinator and its transaction coordinator recover from disk. Meanwhile the producer
keeps sending (librdkafka buffers), the workers' consumers and transactional producers
lose their connections, checkpoints fail, and fetched records are handled but cannot be
committed. The run must end with:

* every delivery handle confirmed, none failed (the outage is far shorter than the
  producer's ``message.timeout.ms``, 120 s);
* every produced event handled at least once and its side effect applied; the group's
  offsets committed to the end of every partition;
* per key, no event handled before an earlier one (the first handling of each event
  follows production order; see `tests.reliability.checks`);
* duplicates only where at-least-once allows them (records handled but not committed
  when the broker died are handled again), and none after the idempotency helper;
* recovery: once the broker answers again, every partition handles events produced after
  the kill, and every event is handled within ``MAX_CATCH_UP_S`` of the producer's last
  confirmation. A worker process that exits (fenced, fatal error) counts as recovered
  only because the supervisor restarts it; the exits are reported.

Once this failed three ways (docs/reliability.md, Finding 3): a checkpoint blocked for
good inside ``send_offsets_to_transaction`` (librdkafka ignored its timeout; minimal
reproduction `test_broker_restart_stall.py`), a failed checkpoint could not be aborted,
or the group's offsets stayed ``UNSTABLE_OFFSET_COMMIT``. The runtime now bounds every
transactional call and exits non-zero when its producer is broken, so the supervisor
restarts the slot, which fences the old producer and aborts its transaction. A fourth way
(Finding 7): the restarted broker completed a transaction caught mid-commit without its
marker, leaving the group's offsets pending for good; the workers now find such offsets
and settle them (`frontdesk.worker.hanging`). The whole contract is asserted, and the
exits, settlings and recovery figures are reported.
"""

from __future__ import annotations

import re
import time
from pathlib import Path
from typing import Any

from frontdesk.broker import LocalBroker
from tests.integration.worker.harness import make_topology
from tests.reliability import report
from tests.reliability.checks import Delivery, verdict
from tests.reliability.harness import (
    Scenario,
    Supervised,
    cluster_of,
    committed_to_end,
    wait_for,
)
from tests.reliability.journal import now_ms
from tests.reliability.stream import PacedProducer, plan
from tests.support.kafka import Cluster

EVENTS = 24_000
KEYS = 200
PARTITIONS = 6
PROCESSES = 2
RATE = 1_000  # events/s: ~24 s of production, the outage (~5-15 s) in the middle
KILL_AFTER = 3_000  # events handled before the broker is killed
# producer done -> every event handled: they handle ~3,000/s, but a process whose
# checkpoints keep failing is given max(60 s, 3 x transaction_timeout) before it exits
# for a restart (runner.FAILING_FOR), plus the restart and the rejoin. Offsets left
# hanging (Finding 7): seen within 15 s, settled transaction_timeout + 5 s later, and when
# the settling call of the hanging producer itself hangs (seen twice in 21 runs), that
# producer is found broken 15 s on and its restarted slot settles them: 54-55 s then
MAX_CATCH_UP_S = 90


def first_handling_after(
    ok: list[Delivery], sent_at: dict[str, int], kill_ms: int, main: str
) -> dict[int, int]:
    """Per partition of ``main``: when it first handled an event sent after ``kill_ms``
    (such an event can only have been fetched from the restarted broker)."""
    first: dict[int, int] = {}
    for d in ok:
        if d.topic == main and sent_at.get(d.event_id, 0) > kill_ms:
            first.setdefault(d.partition, d.at_ms)
    return first


def unstable_offsets(cluster: Cluster, scenario: Scenario) -> int | str:
    """Main partitions with unstable group offsets (`Cluster.unstable_partitions`)."""
    try:
        return cluster.unstable_partitions(scenario.group, scenario.main, PARTITIONS)
    except Exception as exc:  # a diagnostic: report, never fail the scenario for it
        return repr(exc)


def test_broker_sigkill_and_restart_mid_stream(own_broker: LocalBroker, tmp_path: Path) -> None:
    began = time.monotonic()
    cluster = cluster_of(own_broker)
    topology = make_topology(cluster, partitions=PARTITIONS, tiers="1s, 2s")
    scenario = Scenario(cluster, topology, tmp_path)
    planned = plan(EVENTS, keys=KEYS, seed=3)
    workers = Supervised(scenario, PROCESSES)
    producer = PacedProducer(cluster.config, topology, planned, rate=RATE)
    figures: dict[str, Any] = {"processes": PROCESSES, "partitions": PARTITIONS}
    kill_ms = back_ms = 0
    recovered = False
    try:
        workers.wait_children(PROCESSES)
        producer.start()
        wait_for(lambda: scenario.handled() >= KILL_AFTER, 60, "the workers to get going")
        figures["sent_before_kill"] = producer.progress
        kill_ms = now_ms()
        own_broker.kill()
        own_broker.start(timeout=120)
        back_ms = now_ms()
        figures["outage_ms"] = back_ms - kill_ms
        assert not producer.done.is_set(), "the outage must happen mid-stream"

        sent = producer.join(timeout=240)
        producer_done_ms = now_ms()
        figures["max_produce_confirm_ms"] = sent.max_confirm_ms
        figures["produce_failed"] = len(sent.failed)
        assert not sent.failed, sent.failed[:5]
        assert sent.confirmed == EVENTS
        wait_for(
            lambda: scenario.handled() >= EVENTS,
            MAX_CATCH_UP_S,
            "every event handled after the broker restart",
            every=0.5,
        )
        figures["producer_done_to_all_handled_ms"] = now_ms() - producer_done_ms
        wait_for(
            lambda: committed_to_end(cluster, scenario.group, [scenario.main]),
            60,  # offsets left hanging are seen within 15 s and settled 15 s later
            "offsets committed to the end after the broker restart",
            every=0.5,
        )
        recovered = True
    finally:
        if not recovered:
            figures["unstable_offset_partitions"] = unstable_offsets(cluster, scenario)
        # a hung worker is not waited for (the supervisor's grace is 45 s): SIGABRT
        code = workers.stop_or_abort(grace=15) if recovered else workers.abort()
        log = workers.output(tail=10**8)
        ok = verdict(scenario, planned).ok
        first = first_handling_after(ok, producer.figures.sent_at_ms, kill_ms, scenario.main)
        figures.update(
            {
                "recovered": recovered,
                "events_handled": len({d.event_id for d in ok}),
                "partitions_handling_after_restart": len(first),
                "worker_recovery_ms": max(first.values()) - back_ms
                if len(first) == PARTITIONS
                else None,
                "worker_process_exits": re.findall(r"exited with (\S+);", log),
                "checkpoint_failures_logged": log.count("checkpoint failed")
                + log.count("checkpoint aborted"),
                # Finding 7: offsets the restarted broker left pending, settled by aborting
                "hanging_offsets_settlings_logged": log.count("to settle them"),
                "runtime_s": round(time.monotonic() - began, 1),
            }
        )
        report.record("broker_sigkill_restart", figures)
    assert code == 0, log[-4000:]

    result = verdict(scenario, planned)
    result.assert_nothing_lost()
    result.assert_order()
    result.assert_no_duplicate_effects()
    figures.update(result.figures())
    report.record("broker_sigkill_restart", figures)
