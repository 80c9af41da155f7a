"""`topics apply` is idempotent and `topics plan` shows what would change.

Each test uses its own namespace so that runs and tests never share topics.
"""

from __future__ import annotations

from frontdesk.admin.acls import plan_acls
from frontdesk.admin.topics import (
    AddPartitions,
    AlterConfig,
    CreateTopic,
    DeleteTopic,
    apply_topics,
    plan_topics,
)
from frontdesk.topology import Topology
from frontdesk.topology.model import parse_topology
from tests.support.kafka import Cluster, unique

TOPOLOGY = """
cluster: {{namespace: {ns}}}
queues:
  operational: {{partitions: 2}}
  automation: {{partitions: 1, retry: {{tiers: [10s]}}}}
  sync: {{partitions: 1, retry: {{tiers: [10s]}}}}
  fallback: {{partitions: 1, retry: {{tiers: [1m]}}}}
tenants:
  - {{id: big, mode: dedicated, partitions: {big_partitions}}}
"""


def _topology(ns: str, big_partitions: int = 1) -> Topology:
    return parse_topology(TOPOLOGY.format(ns=ns, big_partitions=big_partitions))


def test_apply_twice_is_a_no_op_the_second_time(kafka: Cluster) -> None:
    ns = unique("apply")
    topology = _topology(ns)
    first = plan_topics(kafka.admin, topology)
    assert all(isinstance(c, CreateTopic) for c in first.changes)
    assert len(first.changes) == len(topology.topics())
    apply_topics(kafka.admin, first)

    existing = set(kafka.admin.list_topics(timeout=10).topics)
    assert {t.name for t in topology.topics()} <= existing
    second = plan_topics(kafka.admin, topology)
    assert second.empty, [c.describe() for c in second.changes]
    assert plan_acls(kafka.admin, topology).empty  # no principals declared


def test_plan_shows_partition_increase_and_config_change(kafka: Cluster) -> None:
    ns = unique("grow")
    apply_topics(kafka.admin, plan_topics(kafka.admin, _topology(ns)))

    grown = _topology(ns, big_partitions=3)
    plan = plan_topics(kafka.admin, grown)
    adds = [c for c in plan.changes if isinstance(c, AddPartitions)]
    assert {c.topic for c in adds} == {
        t.name
        for t in grown.topics()
        if t.name.startswith(f"{ns}.tenant.big.") and t.partitions == 3
    }  # not the tenant's one-partition state topics
    assert all((c.current, c.wanted) == (1, 3) for c in adds)
    # plan changed nothing
    meta = kafka.admin.list_topics(timeout=10).topics
    assert len(meta[f"{ns}.tenant.big.sync"].partitions) == 1

    apply_topics(kafka.admin, plan)
    meta = kafka.admin.list_topics(timeout=10).topics
    assert len(meta[f"{ns}.tenant.big.sync"].partitions) == 3
    assert plan_topics(kafka.admin, grown).empty

    text = TOPOLOGY.format(ns=ns, big_partitions=3).replace(
        "operational: {partitions: 2}", "operational: {partitions: 2, retention: 3d}"
    )
    retention = parse_topology(text)
    changes = plan_topics(kafka.admin, retention).changes
    three_days = str(3 * 86_400_000)
    assert sorted((c.topic, c.key, c.wanted) for c in changes if isinstance(c, AlterConfig)) == [
        (f"{ns}.pms.operational", "retention.ms", three_days),
        (f"{ns}.tenant.big.operational", "retention.ms", three_days),
    ]


def test_shrinking_is_a_conflict_and_prune_is_opt_in(kafka: Cluster) -> None:
    ns = unique("prune")
    apply_topics(kafka.admin, plan_topics(kafka.admin, _topology(ns, big_partitions=2)))
    shrunk = _topology(ns, big_partitions=1)
    plan = plan_topics(kafka.admin, shrunk)
    assert plan.empty
    assert any("cannot shrink" in c for c in plan.conflicts)

    without_big = parse_topology(TOPOLOGY.format(ns=ns, big_partitions=1).split("tenants:")[0])
    assert plan_topics(kafka.admin, without_big).empty  # no prune: nothing deleted
    pruning = plan_topics(kafka.admin, without_big, prune=True)
    deleted = {c.topic for c in pruning.changes if isinstance(c, DeleteTopic)}
    assert deleted
    assert all(t.startswith(f"{ns}.tenant.big.") for t in deleted)
