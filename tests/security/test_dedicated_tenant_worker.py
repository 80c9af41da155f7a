"""Hole: a dedicated tenant could not run its own worker, and could have read others' holds.

A tenant's worker with ordered handlers, run under the tenant's own SASL principal, exited
with a bare TOPIC_AUTHORIZATION_FAILED: the held-keys and DLQ state topics were shared by
the whole namespace (``<ns>.frontdesk.held``), held every tenant's keys, and lay outside the
tenant's prefixed ACLs; the error named neither the topic nor the operation.

Contract: a dedicated tenant's held keys and DLQ review state live under its prefix
(``tenant.<id>.frontdesk.held``, ``tenant.<id>.frontdesk.dlq.state``), declared by the
topology, so ``frontdesk worker APP --tenant <id>`` runs on the ACLs that ``topics apply``
grants the tenant and nothing else: it handles its events, holds a key behind a failing
ordered event, releases it after the retry succeeds or an operator releases the dead
letter (the CLI/console write that release to the tenant's own state topic, and
``dlq held`` finds the hold there). It cannot read another tenant's holds, and what it
writes into its own state topics about another tenant's topics or dead letters counts for
nothing (neither a hold in ``dlq held`` nor a handled dead letter). A worker that
lacks an ACL exits at once with one line naming the topic, the operation and the principal.
Another tenant's events keep flowing under its own worker, and nothing of its state is
touched.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from confluent_kafka import KafkaError
from confluent_kafka.admin import AdminClient
from confluent_kafka.admin._acl import AclBinding, AclOperation, AclPermissionType
from confluent_kafka.admin._resource import ResourcePatternType, ResourceType

from frontdesk import naming
from frontdesk.admin.acls import apply_acls, plan_acls
from frontdesk.admin.topics import apply_topics, plan_topics
from frontdesk.dlq import DlqReview
from frontdesk.topology import Topology
from frontdesk.topology.model import parse_topology
from frontdesk.worker import held_keys
from tests.integration.worker.harness import TOPOLOGY, WorkerProcess, eventually
from tests.support.events import booking, publish
from tests.support.kafka import Cluster, unique
from tests.support.secure import add_user, as_user, consume_first, retry

pytestmark = pytest.mark.secure

APP_GROUP = "frontdesk.sample"
"""The consumer group name of `tests.support.apps:app`, under a tenant's prefix."""


def _setup(kafka: Cluster, *tenants: str) -> tuple[Topology, dict[str, Cluster]]:
    """A namespace with dedicated ``tenants`` (principal ``User:<id>`` each), its topics and
    ACLs applied, and a client config per tenant that authenticates as that tenant."""
    spec = ", ".join(f'{{id: {t}, mode: dedicated, principal: "User:{t}"}}' for t in tenants)
    topology = parse_topology(
        TOPOLOGY.format(ns=unique("sec"), partitions=1, tiers="1s", tenants=spec)
    )
    admin = kafka.admin
    apply_topics(admin, plan_topics(admin, topology))
    apply_acls(admin, plan_acls(admin, topology))
    clusters = {}
    for tenant in tenants:
        add_user(admin, tenant, f"pw-{tenant}")
        own = Cluster(as_user(kafka, tenant, f"pw-{tenant}"), origin=f"User:{tenant}")
        main = naming.main_topic("operational", tenant, topology.namespace)

        def sees_own(conf: dict[str, Any] = own.config, main: str = main) -> None:
            assert main in AdminClient(conf).list_topics(timeout=5).topics

        retry(sees_own)  # SCRAM credentials and ACLs propagate asynchronously
        clusters[tenant] = own
    return topology, clusters


def _worker(cluster: Cluster, topology: Topology, tmp: Path, name: str, tenant: str) -> Any:
    (tmp / name).mkdir()
    return WorkerProcess(cluster, topology, tmp / name, "--tenant", tenant)


def _booked(process: WorkerProcess) -> list[str]:
    rows = process.rows("SELECT booking_id FROM attempts WHERE outcome = 'ok' ORDER BY rowid")
    return [b for (b,) in rows]


def _fully_committed(kafka: Cluster, group: str, topic: str) -> bool:
    ends = kafka.end_offsets(topic)
    committed = kafka.committed(group, topic)
    return all(ends[p] == 0 or committed.get(p, -1) >= ends[p] for p in ends)


async def test_a_tenants_own_worker_holds_and_releases_keys_on_its_own_acls(
    secure_kafka: Cluster, tmp_path: Path
) -> None:
    a, b = unique("a"), unique("b")
    topology, as_tenant = _setup(secure_kafka, a, b)
    ns = topology.namespace
    main_a, main_b = (naming.main_topic("operational", t, ns) for t in (a, b))
    held_a, held_b = (naming.held_topic(ns, t) for t in (a, b))
    state_a, state_b = (naming.dlq_state_topic(ns, t) for t in (a, b))
    publish(
        secure_kafka.config,
        main_a,
        [
            booking("flaky-1", tenant_id=a, property_id="retried"),  # fails once: holds
            booking("ok-2", tenant_id=a, property_id="retried"),  # parked behind it
            booking("perm-3", tenant_id=a, property_id="dead"),  # dead-lettered: holds
            booking("ok-4", tenant_id=a, property_id="dead"),  # parked until a release
            booking("ok-5", tenant_id=a, property_id="free"),
        ],
    )
    publish(secure_kafka.config, main_b, [booking(f"ok-b{i}", tenant_id=b) for i in range(3)])

    worker_a = _worker(as_tenant[a], topology, tmp_path, "a", a)
    worker_b = _worker(as_tenant[b], topology, tmp_path, "b", b)
    try:

        def dead_key_held() -> bool:
            found = held_keys(secure_kafka.config, topology)  # what `dlq held` shows
            return [(h.key, h.stage, h.parked, h.topic) for h in found] == [
                (f"{a}/dead", "dlq", 1, main_a)
            ]

        await eventually(dead_key_held, timeout=60, message="a's dead-lettered key held")
        await eventually(
            lambda: {"flaky-1", "ok-2", "ok-5"} <= set(_booked(worker_a)),
            timeout=60,
            message="a's retried holder handled, then its parked event",
        )
        order = _booked(worker_a)
        assert order.index("flaky-1") < order.index("ok-2")
        assert "ok-4" not in order, "a parked event ran before its key was released"
        assert [h.tenant for h in held_keys(secure_kafka.config, topology, tenant=a)] == [a]
        assert held_keys(secure_kafka.config, topology, tenant=b) == []

        # A's principal cannot read B's holds (nor B's DLQ state).
        for topic in (held_b, state_b):
            refused = consume_first(as_tenant[a].config, topic, f"{ns}.tenant.{a}.probe")
            assert isinstance(refused, KafkaError), f"{a} read {topic}"
            assert refused.code() == KafkaError.TOPIC_AUTHORIZATION_FAILED

        # A writes its own state topics (its ACLs allow it): forged records there naming
        # B's topics count for nothing, in `dlq held` and in the review state alike.
        forged_hold = json.dumps(
            {"group": f"{ns}.tenant.{b}.{APP_GROUP}", "topic": main_b, "partition": 0,
             "key": f"{b}/x", "hold_id": "h", "event_id": "e", "stage": "dlq", "since": 1}
        ).encode()  # fmt: skip
        b_dead_letter = f"{naming.dlq_topic(main_b)}:0:0"
        forged_release = json.dumps({"id": b_dead_letter, "action": "discard"}).encode()
        as_tenant[a].produce(held_a, [(f"hold|g|{main_b}|{b}/x", forged_hold)])
        as_tenant[a].produce(state_a, [(b_dead_letter, forged_release)])
        assert dead_key_held(), "a forged hold in a's topic showed up"
        review = DlqReview(secure_kafka.config, topology)
        assert b_dead_letter not in {str(i) for i in review.state()}

        # An operator releases A's dead letter; the release goes to A's own state topic.
        (dead,) = review.dead_letters([naming.dlq_topic(main_a)])
        review.release([dead], reason="re-entered by phone", actor="test")
        await eventually(lambda: "ok-4" in _booked(worker_a), timeout=60, message="release")
        await eventually(
            lambda: held_keys(secure_kafka.config, topology) == [], message="keys released"
        )
        assert str(dead.id) not in {str(d.id) for d in review.dead_letters([dead.id.topic])}

        await eventually(
            lambda: {f"ok-b{i}" for i in range(3)} <= set(_booked(worker_b)),
            message="b's events handled under b's own worker",
        )
        for tenant, topic in ((a, main_a), (b, main_b)):
            group = f"{ns}.tenant.{tenant}.{APP_GROUP}"
            await eventually(
                lambda g=group, t=topic: _fully_committed(secure_kafka, g, t),
                message=f"{group} committed {topic}",
            )
    finally:
        code_a, code_b = worker_a.stop(), worker_b.stop()
    assert code_a == 0, worker_a.output()[-3000:]
    assert code_b == 0, worker_b.output()[-3000:]

    # A's holds went through A's own state topics, and nowhere else.
    holds = secure_kafka.drain(held_a)
    assert any((m.key() or b"").startswith(b"hold|") and m.value() for m in holds)
    releases = secure_kafka.drain(state_a, expected=2)
    assert [m.key() for m in releases] == [b_dead_letter.encode(), str(dead.id).encode()]
    existing = set(secure_kafka.admin.list_topics(timeout=10).topics)
    assert naming.held_topic(ns) not in existing
    assert naming.dlq_state_topic(ns) not in existing
    # Nothing of B's state was touched: B held nothing, and nobody wrote its state topics.
    assert secure_kafka.end_offsets(held_b) == {0: 0}
    assert secure_kafka.end_offsets(state_b) == {0: 0}
    assert sorted(_booked(worker_b)) == [f"ok-b{i}" for i in range(3)]


async def test_a_worker_missing_an_acl_exits_naming_the_topic_and_the_operation(
    secure_kafka: Cluster, tmp_path: Path
) -> None:
    c, d = unique("c"), unique("d")
    topology, as_tenant = _setup(secure_kafka, c, d)
    ns = topology.namespace
    held_c = naming.held_topic(ns, c)
    deny = AclBinding(
        ResourceType.TOPIC, held_c, ResourcePatternType.LITERAL, f"User:{c}", "*",
        AclOperation.WRITE, AclPermissionType.DENY,
    )  # fmt: skip
    for future in secure_kafka.admin.create_acls([deny]).values():
        future.result(timeout=30)
    main_d = naming.main_topic("operational", d, ns)
    publish(secure_kafka.config, main_d, [booking(f"ok-d{i}", tenant_id=d) for i in range(3)])

    def exits(process: WorkerProcess) -> str:
        assert process.process.wait(90) == 1, process.output()[-3000:]
        process.stop()
        return process.output()

    def denied_write() -> None:
        out = exits(_worker(as_tenant[c], topology, tmp_path, unique("c"), c))
        expected = f"not authorized to write to topic {held_c} (WRITE): check the ACLs of User:{c}"
        assert expected in out, out[-3000:]
        assert "Traceback" not in out

    retry(denied_write, attempts=3)  # the DENY propagates asynchronously

    # C's principal running D's worker: refused on D's first topic, named.
    out = exits(_worker(as_tenant[c], topology, tmp_path, "c-as-d", d))
    expected = f"not authorized to describe topic {main_d} (DESCRIBE): check the ACLs of User:{c}"
    assert expected in out, out[-3000:]
    assert "Traceback" not in out

    # D's own worker is unaffected and handles D's events.
    worker_d = _worker(as_tenant[d], topology, tmp_path, "d", d)
    try:
        await eventually(
            lambda: {f"ok-d{i}" for i in range(3)} <= set(_booked(worker_d)),
            timeout=60,
            message="d's events handled",
        )
        group = f"{ns}.tenant.{d}.{APP_GROUP}"
        await eventually(lambda: _fully_committed(secure_kafka, group, main_d), message="commit")
    finally:
        assert worker_d.stop() == 0, worker_d.output()[-3000:]
