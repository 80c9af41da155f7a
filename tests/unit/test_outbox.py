"""The outbox on SQLite: rows commit and roll back with the PMS's transaction, in order."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from frontdesk import headers as h
from frontdesk.codec import decode
from frontdesk.errors import EventValidationError
from frontdesk.outbox import Outbox, open_store
from frontdesk.outbox.store import SqliteStore
from frontdesk.topology.model import parse_topology
from tests.support.producing import booking

TOPOLOGY = parse_topology(
    "queues: {operational: {}, automation: {}, sync: {}, fallback: {}}\n"
    "tenants: [{id: vip, mode: dedicated}]\n"
)


@pytest.fixture
def db(tmp_path: Path) -> Path:
    path = tmp_path / "pms.db"
    store = open_store(f"sqlite:///{path}")
    store.create_table()
    store.close()
    return path


def test_rows_commit_with_the_business_change_in_sequence(db: Path) -> None:
    outbox = Outbox(TOPOLOGY)
    events = [booking("acme", "p1", n) for n in range(3)] + [booking("vip", "x", 9)]
    with sqlite3.connect(db) as conn:
        conn.execute("CREATE TABLE bookings (id TEXT)")
        for event in events:
            conn.execute("INSERT INTO bookings VALUES (?)", (event.booking_id,))
            outbox.add(conn.cursor(), event)

    store = open_store(f"sqlite:///{db}")
    rows = store.fetch_unsent(10)
    assert [r.event_id for r in rows] == [str(e.meta.event_id) for e in events]
    assert [r.seq for r in rows] == sorted(r.seq for r in rows)
    assert rows[0].topic == "pms.operational"
    assert rows[-1].topic == "tenant.vip.operational"
    assert rows[0].key == b"acme/p1"
    assert decode(rows[0].value) == events[0]
    assert h.get(rows[0].headers, h.TENANT) == "acme"
    assert h.get(rows[0].headers, h.EVENT_ID) == rows[0].event_id

    store.mark_sent([rows[0].seq, rows[2].seq])
    assert [r.seq for r in store.fetch_unsent(10)] == [rows[1].seq, rows[3].seq]
    assert store.count_unsent() == 2
    store.close()


def test_rollback_leaves_no_event_and_invalid_events_are_refused(db: Path) -> None:
    outbox = Outbox(TOPOLOGY)
    conn = sqlite3.connect(db)

    def failing_business_change() -> None:
        with conn:
            outbox.add(conn, booking())
            raise RuntimeError("business change failed")

    with pytest.raises(RuntimeError):
        failing_business_change()
    good = booking()
    bad = good.model_copy(update={"meta": good.meta.model_copy(update={"tenant_id": "NO"})})
    with pytest.raises(EventValidationError):
        outbox.add(conn, bad)
    conn.close()
    store = open_store(f"sqlite:///{db}")
    assert store.count_unsent() == 0
    store.close()


def test_only_one_relay_holds_the_lock(db: Path) -> None:
    first, second = SqliteStore(db), SqliteStore(db)
    assert first.try_lock()
    assert not second.try_lock()
    first.close()
    assert second.try_lock()
    second.close()


def test_urls_and_table_names() -> None:
    assert isinstance(open_store("sqlite:///tmp/x-outbox-test.db"), SqliteStore)
    with pytest.raises(ValueError, match="unsupported"):
        open_store("mysql://x")
    with pytest.raises(ValueError, match="table name"):
        Outbox(TOPOLOGY, table="x; DROP TABLE y")
    with pytest.raises(TypeError, match="unsupported connection"):
        Outbox(TOPOLOGY).add(object(), booking())


@pytest.mark.parametrize("command", ["status", "relay"])
def test_a_missing_table_is_one_line_naming_the_fix(tmp_path: Path, command: str) -> None:
    from typer.testing import CliRunner

    from frontdesk.cli.main import app

    db = f"sqlite:///{tmp_path / 'pms.db'}"
    result = CliRunner().invoke(
        app,
        ["outbox", command, "--db", db],
        env={"FRONTDESK_BOOTSTRAP_SERVERS": "127.0.0.1:1", "COLUMNS": "40"},
    )
    assert result.exit_code == 1
    assert "Traceback" not in result.output
    assert "no such table: frontdesk_outbox" in result.output
    assert "frontdesk outbox init --db ... --table frontdesk_outbox" in result.output
