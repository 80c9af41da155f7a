"""Operators' mistakes and stray records give one clear line, never a traceback or a 500.

The holes: one non-JSON record in the audit topic made the console's audit page answer 500
for everyone and ``dlq audit`` fail; ``--since 99999999999999999999d`` gave tracebacks in
``replay``, ``replay rewind`` and ``dlq list`` and a 500 in the console; ``--since
0001-01-01`` gave a misleading ``UNSUPPORTED_VERSION`` from the broker; an unwritable
replay output path gave a raw traceback.

The contract: a record of the audit topic that is not an audit record (not JSON, not an
object, fields of the wrong type, nested too deep) is skipped and flagged, and the real
records around it are still shown, in the console and the CLI. A time out of range
(overflowing, or before 1970, which Kafka timestamps cannot express) is refused with one
line naming the text, everywhere a time is typed. An output file that cannot be written
is named in one line. Every other reader of the same topics keeps working.
"""

from __future__ import annotations

import json
from pathlib import Path

from frontdesk.dlq import DlqReview, audit_topic, ensure_topics
from tests.support import dlq as support
from tests.support.console import Session, console, users_file
from tests.support.kafka import Cluster, unique

STRAY = [
    b"not json at all",
    b"\xff\xfe\x00binary",
    b"[1, 2, 3]",
    b'{"audit_id": "x", "at": 5, "actor": "a", "action": "redrive", "reason": "r", '
    b'"ids": "not-a-list", "tenants": []}',
    b'{"audit_id": "x", "at": "2025", "actor": "a", "action": "drop table", "reason": "r", '
    b'"ids": [], "tenants": []}',
    b"[" * 100_000 + b"]" * 100_000,
    b"{}",
]
BAD_TIMES = ["99999999999999999999d", "0001-01-01", "1969-12-31T23:59:59Z"]


def test_operator_input_errors_are_one_line(kafka: Cluster, tmp_path: Path) -> None:
    topo = support.apply(kafka, unique("input"))
    ns = topo.namespace
    main = topo.main_topics("operational")[0]
    ids = support.seed(kafka, f"{main}.dlq", [support.letter(main, tenant="acme")] * 2)
    review = DlqReview(kafka.config, topo)
    review.discard(review.get_many(ids[:1]), reason="before the strays", actor="ana")
    ensure_topics(kafka.admin, ns)
    kafka.produce(audit_topic(ns), [(b"stray", value) for value in STRAY])
    review.discard(review.get_many(ids[1:]), reason="after the strays", actor="ana")

    def run(*args: str) -> tuple[int, str, str]:
        result = support.frontdesk(kafka, topo, tmp_path, *args)
        assert "Traceback" not in result.output
        return result.exit_code, result.stdout, result.stderr

    # The audit trail: the two real records, the strays skipped and flagged.
    code, out, err = run("dlq", "audit", "--json")
    assert code == 0, err
    assert [r["reason"] for r in json.loads(out)] == ["after the strays", "before the strays"]
    assert f"skipped {len(STRAY)} unreadable audit record(s)" in err
    code, out, _ = run("dlq", "audit")
    assert code == 0
    assert out.count("discard") == 2  # the table: both real records

    # Times out of range: one line, naming the text, from every command that takes one.
    for bad in BAD_TIMES:
        for args, exit_code in (
            (("dlq", "list", "--since", bad), 1),
            (("dlq", "list", "--until", bad), 1),
            (("replay", "--queue", "operational", "--since", bad), 2),
            (("replay", "rewind", "--group", "sandbox-x", "--to", bad), 2),
        ):
            code, _, err = run(*args)
            assert code == exit_code, (args, err)
            assert f"invalid time {bad!r}" in err, (args, err)
            assert "UNSUPPORTED_VERSION" not in err
            assert len(err.strip().splitlines()) == 1, err

    # An output file that cannot be written: one line naming it.
    missing = tmp_path / "no-such-dir"
    for args in (
        ("-o", str(missing / "out.jsonl")),
        ("-o", str(missing / "out.parquet")),
        ("-o", str(tmp_path)),  # a directory
        ("--errors", str(missing / "bad.jsonl")),
    ):
        code, _, err = run("replay", "--queue", "operational", "--no-progress", *args)
        assert code == 2, (args, err)
        assert "cannot write" in err, (args, err)
        assert len(err.strip().splitlines()) == 1, err

    users = users_file(tmp_path, ops=None, acme_ops="acme")
    with console(review, users) as base, Session(base) as ops, Session(base) as tenant:
        ops.login("ops")
        tenant.login("acme_ops")
        page = ops.http.get("/audit")
        assert page.status_code == 200
        assert "after the strays" in page.text
        assert "before the strays" in page.text
        assert f"skipped {len(STRAY)} unreadable audit record(s)" in page.text
        assert tenant.http.get("/audit").status_code == 200
        for bad in BAD_TIMES:
            for field in ("since", "until"):
                listing = ops.http.get("/dlq", params={field: bad, "handled": "true"})
                assert listing.status_code == 200
                assert "invalid time" in listing.text
        # Nothing else was disturbed: both dead letters are there, handled by ana.
        listing = ops.http.get("/dlq", params={"handled": "true"}).text
        assert all(str(i) in listing for i in ids)
    assert {state.actor for state in review.state().values()} == {"ana"}
