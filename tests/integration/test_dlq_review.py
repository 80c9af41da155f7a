"""Dead-letter review against a real broker.

Contract: what `list` shows is exactly what the DLQ topic holds (same ids, same count) after
filters; a dry run changes nothing; a redrive puts the original key and value bytes back on
the original topic with the envelope headers, hides the dead letter from `list` and writes
state + audit records; purge asks for confirmation; every action is audited.
Each test uses its own namespace, so its DLQs, state and audit topics are its own.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from typer.testing import Result

from frontdesk import headers as hdr
from frontdesk.dlq import DeadLetterId, DlqError, DlqFilter, DlqReview, audit_topic, state_topic
from frontdesk.topology import Topology
from tests.support import dlq as support
from tests.support.kafka import Cluster, unique


@pytest.fixture
def world(kafka: Cluster) -> tuple[Topology, DlqReview]:
    topo = support.apply(kafka, unique("dlq"))
    return topo, DlqReview(kafka.config, topo)


def _main(topo: Topology) -> str:
    return topo.main_topics("operational")[0]


def _cli(kafka: Cluster, topo: Topology, tmp_path: Path, *args: str, **kw: Any) -> Result:
    return support.cli(kafka, topo, tmp_path, *args, **kw)


def test_list_matches_the_topic_exactly(kafka: Cluster, world: tuple[Topology, DlqReview]) -> None:
    topo, review = world
    main = _main(topo)
    letters = [support.letter(main, tenant="acme", property_id=f"p{i}") for i in range(5)]
    letters += [support.letter(main, tenant="zed", reason="bad_magic", value=b"junk")] * 3
    seeded = support.seed(kafka, f"{main}.dlq", letters)

    on_topic = kafka.drain(f"{main}.dlq", expected=len(letters))
    topic_ids = sorted(f"{m.topic()}:{m.partition()}:{m.offset()}" for m in on_topic)
    listed = review.dead_letters(review.topics(["operational"]))
    assert [str(d.id) for d in listed] == topic_ids == sorted(str(i) for i in seeded)

    zed = review.dead_letters(review.topics(["operational"]), DlqFilter(tenants=frozenset({"zed"})))
    assert sorted(d.id for d in zed) == sorted(seeded[5:])
    bad = DlqFilter(reasons=frozenset({"bad_magic"}), tenants=frozenset({"acme"}))
    assert review.dead_letters(review.topics(["operational"]), bad) == []
    assert review.get(seeded[6]).to_dict()["value_base64"] == "anVuaw=="

    now = datetime.now(UTC)
    recent = DlqFilter(since=now - timedelta(minutes=5), until=now + timedelta(minutes=1))
    assert len(review.dead_letters(review.topics(["operational"]), recent)) == len(letters)
    later = DlqFilter(since=now + timedelta(minutes=1))
    assert review.dead_letters(review.topics(["operational"]), later) == []
    beyond = DeadLetterId(seeded[0].topic, seeded[0].partition, 10_000)
    with pytest.raises(DlqError, match="no dead letter"):
        review.get(beyond)
    with pytest.raises(DlqError, match="no such topic"):
        review.get(f"{topo.namespace}.nope.dlq:0:0")


def test_cli_list_json_is_the_same_set(
    kafka: Cluster, world: tuple[Topology, DlqReview], tmp_path: Path
) -> None:
    topo, _ = world
    main = _main(topo)
    seeded = support.seed(kafka, f"{main}.dlq", [support.letter(main) for _ in range(3)])
    result = _cli(kafka, topo, tmp_path, "list", "--queue", "operational", "--json")
    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)
    assert [r["id"] for r in rows] == sorted(str(i) for i in seeded)
    assert all(r["payload"]["meta"]["tenant_id"] == "acme" for r in rows)


def test_dry_run_changes_nothing(kafka: Cluster, world: tuple[Topology, DlqReview]) -> None:
    topo, review = world
    main = _main(topo)
    support.seed(kafka, f"{main}.dlq", [support.letter(main) for _ in range(2)])
    chosen = review.select(review.topics(), all_=True)
    before = kafka.end_offsets(main)

    result = review.redrive(chosen, reason="try it", dry_run=True)
    assert result.dry_run
    assert {m.target for m in result.moves} == {main}
    assert kafka.end_offsets(main) == before
    assert review.state() == {}
    assert len(review.dead_letters(review.topics())) == 2


def test_redrive_moves_bytes_back_and_hides_them(
    kafka: Cluster, world: tuple[Topology, DlqReview]
) -> None:
    topo, review = world
    main = _main(topo)
    letters = [support.letter(main, property_id=f"p{i}") for i in range(3)]
    seeded = support.seed(kafka, f"{main}.dlq", letters)

    result = review.redrive(
        [review.get(seeded[0]), review.get(seeded[1])], reason="fixed", actor="ana"
    )
    assert result.audit is not None
    back = kafka.drain(main, expected=2)
    assert sorted((m.key(), m.value()) for m in back) == sorted(
        (one.key, one.value) for one in letters[:2]
    )
    for msg in back:
        got = dict(msg.headers() or [])
        assert got[hdr.REDRIVEN_FROM].decode() in {str(seeded[0]), str(seeded[1])}
        assert hdr.ATTEMPT not in got
        assert hdr.EVENT_ID in got
        assert hdr.TRACEPARENT in got

    assert [d.id for d in review.dead_letters(review.topics())] == [seeded[2]]
    assert {d.id for d in review.dead_letters(review.topics(), include_handled=True)} == set(seeded)
    state = review.state()
    assert state[seeded[0]].action == "redrive"
    assert state[seeded[0]].redriven_to == main
    audit = review.audit().records
    assert [(a.action, a.actor, a.reason) for a in audit] == [("redrive", "ana", "fixed")]
    assert sorted(audit[0].ids) == sorted(str(i) for i in seeded[:2])
    with pytest.raises(DlqError, match="already handled"):
        review.select(review.topics(), ids=[seeded[0]])


def test_release_writes_the_contract_record(
    kafka: Cluster, world: tuple[Topology, DlqReview]
) -> None:
    topo, review = world
    main = _main(topo)
    seeded = support.seed(kafka, f"{main}.dlq", [support.letter(main, property_id="p9")])
    review.release([review.get(seeded[0])], reason="guest cancelled by phone", actor="ana")

    records = kafka.drain(state_topic(topo.namespace), expected=1)
    assert records[0].key() == str(seeded[0]).encode()
    value = json.loads(records[0].value())
    assert value["action"] == "release"
    assert value["key"] == "acme/p9"
    assert value["original_topic"] == main
    assert value["version"] == 1
    config = kafka.admin.describe_configs
    from confluent_kafka.admin import ConfigResource

    described = config([ConfigResource("TOPIC", state_topic(topo.namespace))])
    entries = next(iter(described.values())).result(timeout=10)
    assert entries["cleanup.policy"].value == "compact"
    assert review.dead_letters(review.topics()) == []


def test_cli_purge_asks_and_audits(
    kafka: Cluster, world: tuple[Topology, DlqReview], tmp_path: Path
) -> None:
    topo, review = world
    main = _main(topo)
    acme = support.seed(kafka, f"{main}.dlq", [support.letter(main, tenant="acme")])
    zed = support.seed(kafka, f"{main}.dlq", [support.letter(main, tenant="zed")])

    refused = _cli(kafka, topo, tmp_path, "purge", "--tenant", "zed", "-r", "junk", input="n\n")
    assert refused.exit_code == 1
    assert len(review.dead_letters(review.topics())) == 2

    no_reason = _cli(kafka, topo, tmp_path, "purge", "--tenant", "zed", "--yes")
    assert no_reason.exit_code == 2
    bare = _cli(kafka, topo, tmp_path, "purge", "-r", "everything", "--yes")
    assert bare.exit_code == 1
    assert "--all" in bare.output

    done = _cli(kafka, topo, tmp_path, "purge", "--tenant", "zed", "-r", "junk", input="y\n")
    assert done.exit_code == 0, done.output
    assert [d.id for d in review.dead_letters(review.topics())] == acme
    assert review.state()[zed[0]].action == "discard"
    audit = [json.loads(m.value()) for m in kafka.drain(audit_topic(topo.namespace), expected=1)]
    assert [(a["action"], a["actor"], a["ids"], a["tenants"]) for a in audit] == [
        ("discard", "ana", [str(zed[0])], ["zed"])
    ]


def test_cli_redrive_dry_run_then_real(
    kafka: Cluster, world: tuple[Topology, DlqReview], tmp_path: Path
) -> None:
    topo, review = world
    main = _main(topo)
    seeded = support.seed(kafka, f"{main}.dlq", [support.letter(main)])
    before = kafka.end_offsets(main)
    dry = _cli(kafka, topo, tmp_path, "redrive", str(seeded[0]), "-r", "x", "--dry-run", "--json")
    assert json.loads(dry.stdout)["moves"] == [{"id": str(seeded[0]), "to": main}]
    assert kafka.end_offsets(main) == before
    real = _cli(kafka, topo, tmp_path, "redrive", str(seeded[0]), "-r", "handler fixed")
    assert real.exit_code == 0, real.output
    # One record (the end offset also counts the transaction's commit marker).
    assert [m.value() for m in kafka.drain(main, expected=1)] == [review.get(seeded[0]).value]
    assert review.dead_letters(review.topics()) == []
