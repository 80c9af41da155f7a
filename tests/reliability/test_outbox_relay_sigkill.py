"""Contract: SIGKILLing the outbox relay every second while a PMS writes 10,000 events
through the outbox loses nothing, keeps every property's order and duplicates only
republished tails.

The scale-up of `tests/integration/test_outbox_relay_kill.py` (whose helpers it reuses),
on SQLite. A PMS thread writes 10,000 events (12 properties, two tenants, one of them
dedicated) in small transactions at a steady rate. Relays run as a deployment would
run two replicas: one publishes, a standby waits for the outbox lock. About every
second, the moment the publishing relay has marked a batch (so it is working through
the backlog that piled up while its predecessor died), it is SIGKILLed at whatever
point it has reached (producing the next batch, waiting for confirmations, marking),
and a new standby is started; the old standby takes the lock and republishes the
unmarked tail. The run
must end with:

* the topics holding every event id (nothing lost), and nothing unsent in the outbox;
* per property, the first occurrences in outbox order;
* duplicates only of the allowed kind: the same event id with the same bytes, each one
  part of a rewind (a record is either the next event of its property or one already
  published, never a jump ahead), and at most one relay batch per kill.
"""

from __future__ import annotations

import signal
import sqlite3
import subprocess
import threading
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

from frontdesk import headers as h
from frontdesk.outbox import Outbox, open_store
from frontdesk.queues import QueueType
from tests.integration.test_outbox_relay_kill import _events, _start_relay, _transaction
from tests.reliability import report
from tests.support.kafka import Cluster, unique
from tests.support.producing import DEDICATED, create_main_topics, topology

EVENTS = 10_000
PREFILLED = 1_000  # a backlog the first relays publish in full batches
WRITE_RATE = 1_000  # events/s written by the PMS afterwards: ~9 s of kills
PER_TX = 5
BATCH = 100
KILL_EVERY = 1.0


def test_relay_sigkilled_every_second_during_10k_events(kafka: Cluster, tmp_path: Path) -> None:
    began = time.monotonic()
    topo = topology("relay-rel")
    create_main_topics(kafka, topo)
    table = unique("outbox").replace("-", "_")
    path = tmp_path / "pms.db"
    with sqlite3.connect(path) as conn:
        conn.execute("PRAGMA journal_mode=WAL")
    url = f"sqlite:///{path}"
    outbox = Outbox(topo, table=table)
    store = open_store(url, table)
    store.create_table()
    expected: dict[str, list[str]] = defaultdict(list)

    def write(count: int, offset: int, per_tx: int, rate: float | None) -> None:
        conn = sqlite3.connect(path, timeout=30)
        try:
            events = list(_events(count, offset))
            start = time.monotonic()
            for n in range(0, count, per_tx):
                batch = events[n : n + per_tx]
                if rate is not None:
                    ahead = start + n / rate - time.monotonic()
                    if ahead > 0:
                        time.sleep(ahead)
                with _transaction(conn):  # one PMS transaction: the change and its events
                    for e in batch:
                        outbox.add(conn, e)
                for e in batch:
                    expected[e.key].append(str(e.meta.event_id))
            written["at"] = time.monotonic()
        finally:
            conn.close()

    reader = sqlite3.connect(path, timeout=30)
    written: dict[str, float] = {}

    def sent() -> int:
        row = reader.execute(f"SELECT count(*) FROM {table} WHERE sent_at IS NOT NULL")
        return int(row.fetchone()[0])

    write(PREFILLED, 0, 50, None)
    writer = threading.Thread(
        target=write, args=(EVENTS - PREFILLED, PREFILLED, PER_TX, WRITE_RATE)
    )
    relays: list[subprocess.Popen[bytes]] = []
    kills: list[dict[str, Any]] = []

    def start_relay() -> None:
        relays.append(_start_relay(url, table, kafka, "--batch-size", str(BATCH)))

    try:
        start_relay()
        start_relay()  # the standby: waits for the outbox lock
        writer.start()
        last_kill = time.monotonic()
        marked = marked_at_kill = sent()
        while writer.is_alive() or store.count_unsent() > 0:
            time.sleep(0.01)
            before, marked = marked, sent()
            if time.monotonic() - last_kill < KILL_EVERY or marked <= max(before, marked_at_kill):
                continue  # kill a relay that is publishing right now (it just marked a batch)
            victim = relays.pop(0)
            assert victim.poll() is None, _stderr(victim)
            victim.send_signal(signal.SIGKILL)
            victim.wait(10)
            _stderr(victim)
            last_kill = time.monotonic()
            marked_at_kill = sent()
            kills.append({"at_s": round(last_kill - began, 2), "marked": marked_at_kill})
            start_relay()
        writer.join(60)
        assert not writer.is_alive()
        assert store.count_unsent() == 0
        last_write_to_all_sent_ms = int((time.monotonic() - written["at"]) * 1000)
        # The last kill may hit the relay that marked the final batch while both standbys
        # are still starting, so the clean stop is checked on whichever takes the lock.
        publisher = _lock_holder(Path(f"{path}.relay-lock"), relays, timeout=60)
    finally:
        for relay in relays:  # a clean stop: SIGTERM finishes the batch in flight
            if relay.poll() is None:
                relay.send_signal(signal.SIGTERM)
        for relay in relays:
            relay.wait(30)
            _stderr(relay)
    # the publishing relay stops cleanly; a standby still starting up may die of SIGTERM
    codes = [r.returncode for r in relays]
    assert publisher.returncode == 0, codes
    assert all(c in (0, -signal.SIGTERM) for c in codes), codes
    store.close()
    reader.close()

    topics = [
        topo.main_topic_for(QueueType.OPERATIONAL, "acme"),
        topo.main_topic_for(QueueType.OPERATIONAL, DEDICATED),
    ]
    received: dict[str, list[str]] = defaultdict(list)
    payload: dict[str, bytes] = {}
    for topic in topics:
        for msg in kafka.drain(topic, timeout=60):
            event_id = h.get(msg.headers() or [], h.EVENT_ID) or ""  # type: ignore[arg-type]
            value = msg.value() or b""
            assert payload.setdefault(event_id, value) == value, "same id, same bytes"
            received[(msg.key() or b"").decode()].append(event_id)

    assert sum(len(ids) for ids in expected.values()) == EVENTS
    all_ids = {i for ids in received.values() for i in ids}
    want_ids = {i for ids in expected.values() for i in ids}
    assert all_ids == want_ids, f"{len(want_ids - all_ids)} lost, {len(all_ids - want_ids)} unknown"
    for prop, want in expected.items():
        got = received[prop]
        assert list(dict.fromkeys(got)) == want, f"{prop}: first occurrences out of outbox order"
        position = {event_id: n for n, event_id in enumerate(want)}
        last = -1
        for event_id in got:
            pos = position[event_id]
            assert pos == last + 1 or pos <= last, f"{prop}: jumped from #{last} to #{pos}"
            last = max(last, pos)
    duplicates = sum(len(ids) for ids in received.values()) - EVENTS
    assert len(kills) >= 5, f"only {len(kills)} kills mid-stream"
    assert duplicates <= len(kills) * BATCH, (duplicates, len(kills))
    elapsed = time.monotonic() - began

    report.record(
        "outbox_relay_sigkill",
        {
            "events": EVENTS,
            "properties": len(expected),
            "database": "sqlite",
            "batch_size": BATCH,
            "kills": len(kills),
            "relay_processes": len(kills) + 2,
            "lost": len(want_ids - all_ids),
            "duplicates": duplicates,
            "max_duplicates_allowed": len(kills) * BATCH,
            "duplicates_per_kill": round(duplicates / len(kills), 1),
            "order_violations": 0,
            "last_write_to_all_sent_ms": last_write_to_all_sent_ms,
            "kill_every_s": KILL_EVERY,
            "runtime_s": round(elapsed, 1),
        },
    )


def _lock_holder(
    lock: Path, relays: list[subprocess.Popen[bytes]], timeout: float
) -> subprocess.Popen[bytes]:
    """The relay holding the outbox's flock, read from /proc/locks once one has taken it."""
    deadline = time.monotonic() + timeout
    by_pid = {relay.pid: relay for relay in relays}
    while time.monotonic() < deadline:
        if lock.exists():
            inode = lock.stat().st_ino
            for line in Path("/proc/locks").read_text().splitlines():
                fields = line.split()  # "1: FLOCK ADVISORY WRITE <pid> <maj:min:inode> 0 EOF"
                if fields[1] == "FLOCK" and fields[5].endswith(f":{inode}"):
                    holder = by_pid.get(int(fields[4]))
                    if holder is not None:
                        return holder
        time.sleep(0.1)
    raise AssertionError(f"no relay took the outbox lock within {timeout:.0f} s")


def _stderr(relay: subprocess.Popen[bytes]) -> str:
    """The relay's stderr once it has exited (and close the pipe)."""
    if relay.stderr is None or relay.poll() is None:
        return ""
    try:
        return relay.stderr.read().decode(errors="replace")[-2000:]
    finally:
        relay.stderr.close()
