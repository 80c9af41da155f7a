"""A relay killed mid-stream loses nothing and reorders nothing per property.

Contract: while a PMS keeps writing events through the outbox, the relay (a subprocess)
is SIGKILLed several times in the middle of publishing and restarted. In the end the
topics hold every event id; per property, the first occurrences are in outbox order; the
only duplicates are republished tails (same event id, same bytes, resuming in order from
an earlier event of that property), never a gap or a jump ahead.
"""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from frontdesk import headers as h
from frontdesk.outbox import Outbox, open_store
from frontdesk.queues import QueueType
from tests.support.kafka import Cluster, unique
from tests.support.postgres import postgres_dsn  # noqa: F401 - session fixture
from tests.support.producing import DEDICATED, booking, create_main_topics, topology

PREFILLED = 1200
WRITTEN_DURING = 800
KILLS = 4
PROPERTIES = [("acme", f"p{i}") for i in range(8)] + [(DEDICATED, f"v{i}") for i in range(4)]


def _events(count: int, offset: int) -> Iterator[Any]:
    for n in range(offset, offset + count):
        tenant, prop = PROPERTIES[n % len(PROPERTIES)]
        yield booking(tenant, prop, n)


@pytest.fixture(params=["sqlite", "postgres"])
def database(request: pytest.FixtureRequest, tmp_path: Any) -> tuple[str, Callable[[], Any], str]:
    """(relay URL, a function opening a PMS connection, table name)."""
    table = unique("outbox").replace("-", "_")
    if request.param == "sqlite":
        path = tmp_path / "pms.db"
        with sqlite3.connect(path) as conn:
            conn.execute("PRAGMA journal_mode=WAL")  # what a PMS on SQLite would use
        return f"sqlite:///{path}", lambda: sqlite3.connect(path, timeout=30), table
    import psycopg

    dsn: str = request.getfixturevalue("postgres_dsn")
    return dsn, lambda: psycopg.connect(dsn), table


def _transaction(conn: Any) -> Any:
    """sqlite3's `with conn` is a transaction; psycopg's closes the connection."""
    return conn if isinstance(conn, sqlite3.Connection) else conn.transaction()


def _start_relay(url: str, table: str, kafka: Cluster, *extra: str) -> subprocess.Popen[bytes]:
    args = [sys.executable, "-m", "producers.outbox_relay", "--db", url, "--table", table]
    return subprocess.Popen(
        [*args, "--batch-size", "40", *extra],
        env={**os.environ, **kafka.env()},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )


def test_relay_killed_mid_stream_loses_and_reorders_nothing(
    kafka: Cluster, database: tuple[str, Callable[[], Any], str]
) -> None:
    url, connect, table = database
    topo = topology("relay")
    create_main_topics(kafka, topo)
    outbox = Outbox(topo, table=table)
    store = open_store(url, table)
    store.create_table()

    expected: dict[str, list[str]] = defaultdict(list)

    def write(events: Iterator[Any], per_tx: int) -> None:
        conn = connect()
        try:
            batch: list[Any] = []
            for event in events:
                batch.append(event)
                if len(batch) == per_tx:
                    with _transaction(conn):  # one PMS transaction: change + its events
                        for e in batch:
                            outbox.add(conn, e)
                    for e in batch:
                        expected[e.key].append(str(e.meta.event_id))
                    batch = []
                    time.sleep(0.002)
        finally:
            conn.close()

    write(_events(PREFILLED, 0), per_tx=50)
    writer = threading.Thread(target=write, args=(_events(WRITTEN_DURING, PREFILLED), 5))
    writer.start()

    kills = 0
    while kills < KILLS:
        relay = _start_relay(url, table, kafka)
        start = store.count_unsent()
        deadline = time.monotonic() + 60
        # kill only once this run has visibly published something: mid-stream, not at start
        while store.count_unsent() > start - 60 and time.monotonic() < deadline:
            assert relay.poll() is None, relay.stderr.read() if relay.stderr else ""
            time.sleep(0.01)
        relay.send_signal(signal.SIGKILL)
        relay.wait(10)
        assert relay.stderr is not None
        relay.stderr.close()
        kills += 1
    writer.join(60)
    assert not writer.is_alive()

    final = _start_relay(url, table, kafka, "--until-empty")
    _, err = final.communicate(timeout=120)
    assert final.returncode == 0, err.decode()
    assert store.count_unsent() == 0
    store.close()

    total = PREFILLED + WRITTEN_DURING
    topics = [
        topo.main_topic_for(QueueType.OPERATIONAL, "acme"),
        topo.main_topic_for(QueueType.OPERATIONAL, DEDICATED),
    ]
    received: dict[str, list[str]] = defaultdict(list)
    payload: dict[str, bytes] = {}
    for topic in topics:
        for msg in kafka.drain(topic, timeout=60):
            event_id = h.get(msg.headers(), h.EVENT_ID) or ""
            assert payload.setdefault(event_id, msg.value()) == msg.value()
            received[msg.key().decode()].append(event_id)

    assert sum(len(ids) for ids in expected.values()) == total
    all_ids = {i for ids in received.values() for i in ids}
    assert all_ids == {i for ids in expected.values() for i in ids}  # nothing lost
    for key, want in expected.items():
        got = received[key]
        assert list(dict.fromkeys(got)) == want, key  # first occurrences in outbox order
        position = {event_id: n for n, event_id in enumerate(want)}
        last = -1
        for event_id in got:
            pos = position[event_id]
            # each record is the next one, or a rewind that republishes an earlier tail
            assert pos == last + 1 or pos <= last, (key, last, pos)
            last = pos
    duplicates = sum(len(ids) for ids in received.values()) - total
    assert duplicates <= KILLS * 40 * 1  # at most one unmarked batch per kill
