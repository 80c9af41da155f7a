"""Secure mode: a dedicated tenant's principal reaches its own topics and nothing else.

Contract: `topics apply` on a cluster with an authorizer grants each dedicated tenant's
principal prefixed ACLs on `tenant.<id>.` (topics, groups, transactional ids); tenant A can
produce and consume on `tenant.a.*` and is refused on tenant B's topics and groups.
"""

from __future__ import annotations

from typing import Any

import pytest
from confluent_kafka import KafkaError, Producer
from confluent_kafka.admin import AdminClient

from frontdesk.admin.acls import apply_acls, plan_acls
from frontdesk.admin.topics import apply_topics, plan_topics
from frontdesk.topology.model import parse_topology
from tests.support.kafka import Cluster, unique
from tests.support.secure import add_user, as_user, consume_first, retry

pytestmark = pytest.mark.secure


def _produce(conf: dict[str, Any], topic: str) -> KafkaError | None:
    errors: list[KafkaError | None] = []
    producer = Producer({**conf, "acks": "all", "message.timeout.ms": 10_000})
    producer.produce(topic, b"v", key=b"k", on_delivery=lambda err, _msg: errors.append(err))
    producer.flush(15)
    assert errors, "no delivery report"
    return errors[0]


def test_tenant_reaches_only_its_own_topics_and_groups(secure_kafka: Cluster) -> None:
    ns = unique("iso")
    a, b = unique("a"), unique("b")
    topology = parse_topology(
        f"""
cluster: {{namespace: {ns}}}
queues: {{operational: {{partitions: 1}}, automation: {{}}, sync: {{}}, fallback: {{}}}}
tenants:
  - {{id: {a}, mode: dedicated, principal: "User:{a}", partitions: 1}}
  - {{id: {b}, mode: dedicated, principal: "User:{b}", partitions: 1}}
"""
    )
    admin = secure_kafka.admin
    apply_topics(admin, plan_topics(admin, topology))
    acl_plan = plan_acls(admin, topology)
    assert acl_plan.supported
    assert len(acl_plan.grant) == 2 * 9
    apply_acls(admin, acl_plan)
    assert plan_acls(admin, topology).empty  # idempotent
    add_user(admin, a, "secret-a")
    add_user(admin, b, "secret-b")
    tenant_a = as_user(secure_kafka, a, "secret-a")
    own, other = f"{ns}.tenant.{a}.operational", f"{ns}.tenant.{b}.operational"

    def produce_own() -> None:
        assert _produce(tenant_a, own) is None

    retry(produce_own)
    assert consume_first(tenant_a, own, f"{ns}.tenant.{a}.reader") == b"v"

    refused = _produce(tenant_a, other)
    assert refused is not None
    assert refused.code() == KafkaError.TOPIC_AUTHORIZATION_FAILED

    read_other = consume_first(tenant_a, other, f"{ns}.tenant.{a}.reader2")
    assert isinstance(read_other, KafkaError)
    assert read_other.code() == KafkaError.TOPIC_AUTHORIZATION_FAILED

    other_group = consume_first(tenant_a, own, f"{ns}.tenant.{b}.reader")
    assert isinstance(other_group, KafkaError)
    assert other_group.code() == KafkaError.GROUP_AUTHORIZATION_FAILED

    # Metadata hides what the principal may not describe.
    visible = set(AdminClient(tenant_a).list_topics(timeout=10).topics)
    assert own in visible
    assert other not in visible


def test_acls_not_declared_are_revoked(secure_kafka: Cluster) -> None:
    ns = unique("rev")
    t = unique("t")
    text = f"""
cluster: {{namespace: {ns}}}
queues: {{operational: {{partitions: 1}}, automation: {{}}, sync: {{}}, fallback: {{}}}}
tenants:
  - {{id: {t}, mode: dedicated, principal: "User:{t}"}}
"""
    topology = parse_topology(text)
    admin = secure_kafka.admin
    apply_acls(admin, plan_acls(admin, topology))
    # Someone hand-grants the tenant access to the pooled topics...
    from confluent_kafka.admin._acl import AclBinding, AclOperation, AclPermissionType
    from confluent_kafka.admin._resource import ResourcePatternType, ResourceType

    extra = AclBinding(
        ResourceType.TOPIC, f"{ns}.pms.", ResourcePatternType.PREFIXED, f"User:{t}", "*",
        AclOperation.READ, AclPermissionType.ALLOW,
    )  # fmt: skip
    for future in admin.create_acls([extra]).values():
        future.result(timeout=30)
    plan = plan_acls(admin, topology)
    assert [(b.name, b.principal) for b in plan.revoke] == [(f"{ns}.pms.", f"User:{t}")]
    apply_acls(admin, plan)
    assert plan_acls(admin, topology).empty
