"""The topology file: what it implies, and how a mistake in it is reported."""

from pathlib import Path

import pytest

from frontdesk.queues import QueueType
from frontdesk.topology import TopologyError, load_topology
from frontdesk.topology.model import parse_topology

REPO = Path(__file__).resolve().parents[2]

MINIMAL = """
queues:
  operational: {partitions: 4}
  automation: {}
  sync: {}
  fallback: {partitions: 2, retry: {tiers: [1m]}}
tenants:
  - {id: small}
  - {id: big, mode: dedicated, principal: "User:big", partitions: 2}
"""


def test_shipped_topology_is_valid() -> None:
    topology = load_topology(REPO / "deploy" / "topology.yaml")
    names = {t.name for t in topology.topics()}
    assert "pms.operational.retry.10s" in names
    assert "tenant.grand-hotel.sync.dlq" in names


def test_topics_for_pooled_and_dedicated_tenants() -> None:
    topology = parse_topology(MINIMAL)
    by_name = {t.name: t for t in topology.topics()}
    assert by_name["pms.operational"].partitions == 4
    # Retry tiers share the main topic's partition count so a key keeps its partition.
    assert by_name["pms.operational.retry.1h"].partitions == 4
    assert by_name["tenant.big.operational"].partitions == 2
    assert by_name["pms.fallback.retry.1m"].config["retention.ms"] == str(7 * 86_400_000)
    assert "pms.fallback.retry.10s" not in by_name
    # Parked topics (ordered events behind a held key) keep the main topic's partitions.
    assert by_name["tenant.big.sync.parked"].partitions == 2
    # 4 queues x (main + parked + dlq) + tiers (4+4+4+1), for the pool and one dedicated
    # tenant, the dedicated tenant's own held-keys and DLQ state topics, and the schemas topic.
    assert len(by_name) == 2 * (4 * 3 + 13) + 2 + 1
    schemas = by_name["frontdesk.schemas"]
    assert schemas.partitions == 1
    assert schemas.config == {
        "cleanup.policy": "compact",
        "retention.ms": "-1",
        # replication factor 1: a single in-sync replica; never an unclean leader
        "min.insync.replicas": "1",
        "unclean.leader.election.enable": "false",
    }


def test_a_dedicated_tenant_has_compacted_state_topics_under_its_prefix() -> None:
    topology = parse_topology("cluster: {namespace: ci-7}\n" + MINIMAL)
    by_name = {t.name: t for t in topology.topics()}
    for name in ("ci-7.tenant.big.frontdesk.held", "ci-7.tenant.big.frontdesk.dlq.state"):
        spec = by_name[name]
        assert spec.partitions == 1
        assert spec.config["cleanup.policy"] == "compact"
        assert spec.config["retention.ms"] == "-1"
    # The pooled tenants' shared state topics are created on first use, not declared; no
    # pooled tenant gets a copy of its own.
    assert "ci-7.frontdesk.held" not in by_name
    assert not any(n.startswith("ci-7.tenant.small.") for n in by_name)
    assert topology.state_owners() == [None, "big"]


def test_routing_follows_tenant_mode() -> None:
    topology = parse_topology(MINIMAL)
    assert topology.main_topic_for(QueueType.SYNC, "small") == "pms.sync"
    assert topology.main_topic_for(QueueType.SYNC, "big") == "tenant.big.sync"
    assert topology.main_topic_for(QueueType.SYNC, "unlisted") == "pms.sync"
    assert topology.main_topics(QueueType.SYNC) == ["pms.sync", "tenant.big.sync"]


@pytest.mark.parametrize(
    ("cluster", "isr"),
    [
        ("{replication_factor: 3}", "2"),
        ("{replication_factor: 2}", "1"),
        ("{replication_factor: 5, min_insync_replicas: 3}", "3"),
        ("{}", "1"),
    ],
)
def test_cluster_section_sets_durability_on_every_topic(cluster: str, isr: str) -> None:
    topology = parse_topology(f"cluster: {cluster}\n" + MINIMAL)
    for topic in topology.topics():
        assert topic.config["min.insync.replicas"] == isr, topic.name
        assert topic.config["unclean.leader.election.enable"] == "false", topic.name


def test_min_insync_above_replication_factor_is_refused() -> None:
    text = "cluster: {replication_factor: 3, min_insync_replicas: 4}\n" + MINIMAL
    with pytest.raises(TopologyError, match="cannot exceed replication_factor"):
        parse_topology(text)


def test_namespace_prefixes_every_topic() -> None:
    topology = parse_topology("cluster: {namespace: ci-7}\n" + MINIMAL)
    assert all(t.name.startswith("ci-7.") for t in topology.topics())
    assert topology.tenant_prefix("big") == "ci-7.tenant.big."


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (MINIMAL.replace("partitions: 4", "partitions: 0"), "line 3, queues.operational"),
        (MINIMAL.replace("{id: small}", "{id: Small}"), "line 8, tenants.0.id"),
        (MINIMAL.replace("tiers: [1m]", "tiers: [1h, 1m]"), "escalate"),
        (MINIMAL.replace("tiers: [1m]", "tiers: [30d]"), "longer than the longest tier"),
        (MINIMAL.replace("  fallback:", "  fallbck:"), "fallbck"),
        (MINIMAL.replace("{id: small}", "{id: small, principal: 'User:x'}"), "dedicated"),
        (MINIMAL + "  - {id: small}\n", "repeated: small"),
        ("queues: [", "not valid YAML"),
    ],
)
def test_invalid_files_name_the_line_and_field(text: str, expected: str) -> None:
    with pytest.raises(TopologyError) as info:
        parse_topology(text, "topo.yaml")
    assert expected in str(info.value)


def test_missing_file_is_reported_plainly(tmp_path: Path) -> None:
    with pytest.raises(TopologyError, match="cannot read topology file"):
        load_topology(tmp_path / "nope.yaml")
