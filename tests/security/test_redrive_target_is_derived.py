"""Redrive is not a write primitive: its target comes from where the dead letter sits.

The hole: a redrive sent a dead letter to the topic its ``fd-original-topic`` header named,
and the tenant writes that header itself. Tenant ``grand`` (dedicated, so it may write to
its own DLQ) planted records whose header named the DLQ state topic, the pooled
``pms.operational``, the held-keys topic and ``__consumer_offsets``, with a key and value
shaped as a state record that marks tenant zed's dead letter discarded. A console user or
the CLI then redrove them there, and zed's dead letter was marked discarded.

The contract: a redrive goes to the main topic of the queue and tenant whose DLQ holds the
record, whatever the headers say, from the CLI and the console alike. ``--to`` (and the
console's "redrive to") takes only a main or retry topic of that same queue and tenant;
internal topics, another tenant's or another queue's topics are refused with one clear
line and nothing is written. zed's dead letter stays open and can still be redriven to
its own topic; a real worker then handles zed's and grand's later events, dead-letters the
redriven junk, and commits every partition it read.
"""

from __future__ import annotations

import json
from pathlib import Path

from frontdesk import headers as hdr
from frontdesk.admin.ensure import create_missing
from frontdesk.dlq import DeadLetterId, DlqReview, audit_topic, ensure_topics, state_topic
from frontdesk.topology import held_spec
from frontdesk.worker.holds import held_topic
from tests.integration.worker.harness import WorkerProcess, eventually, make_topology
from tests.support import apps
from tests.support import dlq as support
from tests.support.console import Session, console, users_file
from tests.support.events import booking, publish
from tests.support.kafka import Cluster


def _planted(original_topic: str, grand_main: str, victim: DeadLetterId) -> support.Letter:
    """grand's own dead letter, shaped as a state record that discards ``victim``."""
    one = support.letter(grand_main, tenant="grand")
    value = json.dumps({"id": str(victim), "action": "discard", "actor": "x", "version": 1})
    forged = original_topic.encode()
    headers = [(k, forged if k == hdr.ORIGINAL_TOPIC else v) for k, v in one.headers]
    return support.Letter(str(victim).encode(), value.encode(), headers)


def _copies(kafka: Cluster, topic: str) -> list[str]:
    """The ``fd-redriven-from`` of every record in ``topic`` (empty if there is none)."""
    return [hdr.get(m.headers(), hdr.REDRIVEN_FROM) or "" for m in kafka.read_all(topic)]


async def test_redrive_target_is_derived_from_the_dlq(kafka: Cluster, tmp_path: Path) -> None:
    topo = make_topology(kafka, partitions=1, tiers="1s", dedicated=("grand",))
    ns = topo.namespace
    ensure_topics(kafka.admin, ns)
    create_missing(kafka.admin, [held_spec(ns, None)])
    pooled = topo.main_topics("operational")[0]
    grand = topo.main_topic_for("operational", "grand")
    (victim,) = support.seed(kafka, f"{pooled}.dlq", [support.letter(pooled, tenant="zed")])
    internal = [state_topic(ns), pooled, held_topic(ns), "__consumer_offsets"]
    planted = support.seed(kafka, f"{grand}.dlq", [_planted(t, grand, victim) for t in internal])
    review = DlqReview(kafka.config, topo)

    # Refused targets, from the CLI: one clear line, exit 1, nothing written.
    refused = [
        *internal,
        audit_topic(ns),
        f"{grand}.dlq",
        f"{grand}.parked",
        topo.main_topic_for("sync", "grand"),  # grand's, but another queue
        "tenant.grand.operational",  # grand's queue without the namespace
        "no-such-topic",
    ]
    for bad in refused:
        args = ("redrive", str(planted[0]), "--to", bad, "-r", "x")
        result = support.cli(kafka, topo, tmp_path, *args)
        assert result.exit_code == 1, (bad, result.output)
        assert "refusing to redrive" in result.stderr, (bad, result.stderr)
        assert "Traceback" not in result.output
    assert review.state() == {}

    # The CLI redrives two planted records: both go to grand's own main topic.
    cli = support.cli(
        kafka, topo, tmp_path, "redrive", str(planted[0]), str(planted[1]), "-r", "x", "--json"
    )
    assert cli.exit_code == 0, cli.output
    assert {m["to"] for m in json.loads(cli.stdout)["moves"]} == {grand}

    users = users_file(tmp_path, ops=None, grand_ops="grand")
    with console(review, users) as base, Session(base) as tenant, Session(base) as ops:
        tenant.login("grand_ops")
        ids = [str(planted[2])]
        for bad in refused:
            answer = tenant.act("confirm", ids, "redrive", to=bad)
            assert answer.status_code == 400, (bad, answer.text)
            assert "refusing to redrive" in answer.text
            assert tenant.act("execute", ids, "redrive", to=bad).status_code == 400
        # The tenant's own console redrive goes to its own main topic, never the header's.
        plan = tenant.act("confirm", ids, "redrive")
        assert plan.status_code == 200, plan.text
        assert grand in plan.text
        assert tenant.act("execute", ids, "redrive").status_code == 200
        # So does an operator's, including one to grand's own retry tier.
        ops.login("ops")
        tier = f"{grand}.retry.1s"
        done = ops.act("execute", [str(planted[3])], "redrive", to=tier)
        assert done.status_code == 200, done.text
        # zed's dead letter was never touched, and is still redriven to zed's own topic.
        assert str(victim) in ops.http.get("/dlq?tenant=zed").text
        assert victim not in review.state()
        assert ops.act("execute", [str(victim)], "redrive").status_code == 200

    state = review.state()
    assert {str(i): state[i].redriven_to for i in planted} == {
        str(planted[0]): grand,
        str(planted[1]): grand,
        str(planted[2]): grand,
        str(planted[3]): tier,
    }
    assert state[victim].action == "redrive"
    assert state[victim].redriven_to == pooled
    assert sorted(_copies(kafka, grand)) == sorted(str(i) for i in planted[:3])
    assert _copies(kafka, tier) == [str(planted[3])]
    assert _copies(kafka, pooled) == [str(victim)]  # zed's own, and nothing planted
    assert _copies(kafka, held_topic(ns)) == []
    # The state topics hold only the console/CLI's own records, keyed by dead-letter id:
    # grand's (a dedicated tenant) under its prefix, zed's (pooled) in the shared one.
    assert {m.key() for m in kafka.read_all(state_topic(ns, "grand"))} == {
        str(i).encode() for i in planted
    }
    assert {m.key() for m in kafka.read_all(state_topic(ns))} == {str(victim).encode()}

    # Nothing stalls: a real worker handles both tenants' later events, dead-letters the
    # redriven junk (grand's planted values are not events) and commits everything it read.
    publish(kafka.config, pooled, [booking("ok-zed", tenant_id="zed")])
    publish(kafka.config, grand, [booking("ok-grand", tenant_id="grand")])
    (tmp_path / "worker").mkdir()
    worker = WorkerProcess(kafka, topo, tmp_path / "worker")
    group = apps.app.group_id(ns)
    try:
        await eventually(
            lambda: {"ok-zed", "ok-grand"} <= booked(worker), timeout=60, message="later events"
        )
        await eventually(
            lambda: len(review.dead_letters([f"{grand}.dlq"], include_handled=True)) == 8,
            timeout=60,
            message="the four redriven copies dead-lettered",
        )
        for topic in (pooled, grand, tier):
            # One past the last record: a transactional write's marker has an offset too.
            last = {m.partition(): (m.offset() or 0) + 1 for m in kafka.read_all(topic)}
            await eventually(
                lambda t=topic, want=last: kafka.committed(group, t) == want,  # type: ignore[misc]
                timeout=60,
                message=f"{topic} committed",
            )
    finally:
        assert worker.stop() == 0, worker.output()[-3000:]
    assert review.state()[victim].action == "redrive"  # and still only what we wrote
    assert _copies(kafka, held_topic(ns)) == []


def booked(process: WorkerProcess) -> set[str]:
    return {b for (b,) in process.rows("SELECT booking_id FROM attempts WHERE outcome = 'ok'")}
