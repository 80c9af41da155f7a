"""Contract: a stream mixing poison, transient failures and a dependency outage dead-letters
exactly the poison, recovers everything else through the retry tiers, loses nothing and
keeps per-key order on every key, including the keys that waited for a retry.

``frontdesk worker tests.reliability.app:app --processes 2`` consumes a 4-partition topic
while the producer SDK sends 5,000 ordered events (BookingCreated/BookingModified) over
250 properties at a steady rate and, interleaved on the same keys and partitions, a raw
producer sends 1 % poison:

* 25 records whose bytes are not an Avro single-object message (``bad_magic``);
* 25 valid BookingCreated whose ``fd-tenant`` header names the other tenant
  (``tenant_mismatch``).

Of the valid events, a deterministic 5 % (``flaky``) fail their first attempt with a
retryable error, and 5 % (``dep``) need a fake downstream system that is *down* for
``OUTAGE_S`` seconds mid-stream (a flag file the handler checks). The app's retry
policy, tiers 1 s and 2 s and 8 attempts (13 s of waiting), outlasts the outage. Ordered
types hold their key while an event of it waits in a tier: later events of the key are
parked and run, in order, once it succeeded (docs/worker.md). The run must end with:

* the DLQ holding exactly the 50 poison records, byte for byte, each with its reason,
  and nothing else (no transient or dependency failure dead-lettered);
* every flaky event failed at attempt 1 and succeeded at attempt 2 (the 1 s tier);
* every dep event succeeded; those that met the outage only after it ended;
* every valid event handled and its side effect applied once, offsets committed to the
  end;
* per key, for *every* key (those that were held included), no event handled before an
  earlier one.

No exception: an event parked while its key's release was reading the parked topic is
replayed too (it was lost before the fix of docs/reliability.md, "Findings" 4;
`test_release_race.py` is its minimal reproduction).
"""

from __future__ import annotations

import re
import threading
import time
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

from frontdesk import headers
from frontdesk.codec import default_codec
from tests.integration.worker.harness import drain_all, header, make_topology
from tests.reliability import report
from tests.reliability.checks import verdict
from tests.reliability.harness import (
    Scenario,
    Supervised,
    committed_to_end,
    wait_for,
    wait_settled,
)
from tests.reliability.journal import now_ms
from tests.reliability.stream import TENANTS, PacedProducer, plan
from tests.support.events import booking, envelope, producer
from tests.support.kafka import Cluster

EVENTS = 5_000
KEYS = 250
PARTITIONS = 4
PROCESSES = 2
RATE = 1_000  # events/s: ~10 s of production
FLAKY = 0.05
DEP = 0.05
POISON_EACH = 25  # bad_magic and tenant_mismatch each: 1 % of the stream in all
OUTAGE_AFTER = 1_000  # events sent when the dependency goes down
OUTAGE_S = 3.0

Poison = tuple[str, bytes, bytes, list[tuple[str, str | bytes | None]]]
"""(reason, key, value, headers)"""


def poison_records(keys: int) -> list[Poison]:
    """``POISON_EACH`` of each kind, alternating, on keys the valid events use too."""
    codec = default_codec()
    out: list[Poison] = []
    for n in range(POISON_EACH):
        for reason in ("bad_magic", "tenant_mismatch"):
            k = (n * 37 + len(out)) % keys
            tenant = TENANTS[k % len(TENANTS)]
            event = booking(f"poison.{k}.{len(out)}", tenant_id=tenant, property_id=f"p{k}")
            if reason == "bad_magic":
                value = f'{{"not": "avro", "poison": {len(out)}}}'.encode()
                record_headers: list[tuple[str, str | bytes | None]] = [*envelope(event)]
            else:
                other = TENANTS[(k + 1) % len(TENANTS)]
                value = codec.encode(event)
                record_headers = [(headers.TENANT, other.encode()), *envelope(event)[1:]]
            out.append((reason, event.key.encode(), value, record_headers))
    return out


class PoisonSender:
    """Sends the poison with a raw producer, spread evenly over ``duration`` seconds."""

    def __init__(self, config: dict[str, Any], topic: str, records: list[Poison], duration: float):
        self.records = records
        self.topic = topic
        self.duration = duration
        self._producer = producer(config)
        self._thread = threading.Thread(target=self._run, name="poison", daemon=True)
        self._error: BaseException | None = None

    def start(self) -> PoisonSender:
        self._thread.start()
        return self

    def _run(self) -> None:
        try:
            began = time.monotonic()
            every = self.duration / len(self.records)
            for n, (_reason, key, value, record_headers) in enumerate(self.records):
                ahead = began + (n + 0.5) * every - time.monotonic()
                if ahead > 0:
                    time.sleep(ahead)
                self._producer.produce(self.topic, key=key, value=value, headers=record_headers)
                self._producer.poll(0)
            assert self._producer.flush(60) == 0, "poison not delivered"
        except BaseException as exc:
            self._error = exc

    def join(self, timeout: float = 120) -> None:
        self._thread.join(timeout)
        assert not self._thread.is_alive(), "the poison sender did not finish"
        if self._error is not None:
            raise self._error


def _stats(log: str) -> Counter[str]:
    """The workers' own counters, summed over the processes' final stats lines."""
    total: Counter[str] = Counter()
    for line in re.findall(r"stopped: (\{.*\})", log):
        for name, value in re.findall(r"'(\w+)': (\d+)", line):
            total[name] += int(value)
    return total


def test_mixed_stream_poison_transient_and_dependency_outage(
    kafka: Cluster, tmp_path: Path
) -> None:
    began = time.monotonic()
    topology = make_topology(kafka, partitions=PARTITIONS, tiers="1s, 2s")
    flag = tmp_path / "ota-down"
    scenario = Scenario(kafka, topology, tmp_path, FD_REL_DEP_DOWN=str(flag))
    planned = plan(EVENTS, keys=KEYS, seed=44, flaky=FLAKY, dep=DEP)
    poison = poison_records(KEYS)
    workers = Supervised(scenario, PROCESSES)
    sender = PacedProducer(kafka.config, topology, planned, rate=RATE)
    poisoner = PoisonSender(kafka.config, scenario.main, poison, duration=EVENTS / RATE)
    try:
        workers.wait_ready(PROCESSES)
        sender.start()
        poisoner.start()
        wait_for(lambda: sender.progress >= OUTAGE_AFTER, 60, "the stream to get going")
        flag.touch()
        down_ms = now_ms()
        time.sleep(OUTAGE_S)
        flag.unlink()
        up_ms = now_ms()
        assert not sender.done.is_set(), "the outage must end mid-stream"

        figures = sender.join()
        poisoner.join()
        assert not figures.failed, figures.failed[:5]
        handled = wait_settled(scenario.handled, EVENTS, quiet=15, timeout=150)
        all_handled_ms = now_ms()
        wait_for(
            lambda: committed_to_end(kafka, scenario.group, [scenario.main]),
            60,
            "offsets committed to the end",
            every=0.5,
        )
    finally:
        code = workers.stop()
    log = workers.output(tail=10**8)
    assert code == 0, log[-4000:]
    elapsed = time.monotonic() - began

    # Exactly the poison in the DLQ, byte for byte, with its reason.
    letters = drain_all(kafka, f"{scenario.main}.dlq")
    got: Counter[tuple[str | None, bytes | None, bytes | None]] = Counter(
        (header(m, headers.REASON), m.key(), m.value()) for m in letters
    )
    want: Counter[tuple[str | None, bytes | None, bytes | None]] = Counter(
        (reason, key, value) for reason, key, value, _ in poison
    )
    assert got == want, (
        f"DLQ differs: {sum((got - want).values())} unexpected, e.g. "
        f"{list(got - want)[:3]}; {sum((want - got).values())} missing"
    )
    assert {header(m, headers.ORIGINAL_TOPIC) for m in letters} == {scenario.main}

    assert handled == EVENTS, f"{EVENTS - handled} events never handled"
    result = verdict(scenario, planned)
    result.assert_nothing_lost()
    result.assert_order()  # every key: held keys released in order
    result.assert_no_duplicate_effects()

    kinds = {p.event_id: p.kind for p in planned}
    attempts: dict[str, list[tuple[int, str, int]]] = defaultdict(list)
    for event_id, attempt, outcome, at_ms in scenario.rows(
        "SELECT event_id, attempt, outcome, at_ms FROM attempts ORDER BY id"
    ):
        attempts[str(event_id)].append((int(str(attempt)), str(outcome), int(str(at_ms))))
    flaky = [e for e, k in kinds.items() if k == "flaky"]
    for event_id in flaky:
        rows = attempts[event_id]
        assert (1, "failed") in [(a, o) for a, o, _ in rows], (event_id, rows)
        assert min(a for a, o, _ in rows if o == "ok") == 2, (event_id, rows)
    dep = [e for e, k in kinds.items() if k == "dep"]
    met_outage = [e for e in dep if any(o == "dependency_down" for _, o, _ in attempts[e])]
    assert met_outage, "no dependency call met the outage"
    for event_id in met_outage:
        ok_at = min(at for _, o, at in attempts[event_id] if o == "ok")
        assert ok_at >= up_ms, (event_id, attempts[event_id])
    failed_keys = {p.key for p in planned if p.event_id in flaky or p.event_id in met_outage}
    stats = _stats(log)

    report.record(
        "mixed_stream",
        {
            **result.figures(),
            "processes": PROCESSES,
            "partitions": PARTITIONS,
            "poison": len(poison),
            "dlq_records": len(letters),
            "dlq_by_reason": dict(Counter(str(r) for r, _, _ in got.elements())),
            "flaky_events": len(flaky),
            "flaky_succeeded_at_attempt_2": len(flaky),
            "dep_events": len(dep),
            "dep_events_that_met_the_outage": len(met_outage),
            "dep_max_attempts": max(max(a for a, _, _ in attempts[e]) for e in met_outage),
            "outage_ms": up_ms - down_ms,
            "outage_end_to_last_dep_success_ms": max(
                min(at for _, o, at in attempts[e] if o == "ok") for e in met_outage
            )
            - up_ms,
            "keys_with_a_failed_attempt": len(failed_keys),
            "keys_order_checked": result.keys_checked,
            "worker_counts": {
                k: stats[k]
                for k in ("retried", "dead_lettered", "held", "parked", "replayed", "released")
            },
            "producer_done_to_all_handled_ms": all_handled_ms
            - figures.sent_at_ms[planned[-1].event_id],
            "runtime_s": round(elapsed, 1),
        },
    )
