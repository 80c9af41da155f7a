"""Topic names are a contract with ACLs and operators: pin them."""

import pytest

from frontdesk import naming
from frontdesk.queues import QueueType


def test_pooled_and_dedicated_main_topics() -> None:
    assert naming.main_topic(QueueType.SYNC) == "pms.sync"
    assert naming.main_topic("operational", "grand-hotel") == "tenant.grand-hotel.operational"
    assert naming.main_topic("sync", "t1", namespace="stg") == "stg.tenant.t1.sync"


def test_tier_and_dlq_names_hang_off_the_main_topic() -> None:
    main = naming.main_topic("automation", "t1")
    assert naming.retry_topic(main, "10m") == "tenant.t1.automation.retry.10m"
    assert naming.dlq_topic(main) == "tenant.t1.automation.dlq"


def test_tenant_prefix_ends_with_the_delimiter() -> None:
    # Without the trailing dot, the ACL prefix for t1 would also grant t10's topics.
    assert naming.tenant_prefix("t1") == "tenant.t1."
    assert not naming.main_topic("sync", "t10").startswith(naming.tenant_prefix("t1"))


@pytest.mark.parametrize("bad", ["", "Acme", "a/b", "a.b", "-x", "x" * 64])
def test_invalid_tenant_ids_are_refused(bad: str) -> None:
    with pytest.raises(ValueError, match="invalid tenant id"):
        naming.validate_tenant_id(bad)


@pytest.mark.parametrize(
    ("text", "ms"), [("250ms", 250), ("10s", 10_000), ("1m", 60_000), ("1h", 3_600_000)]
)
def test_durations(text: str, ms: int) -> None:
    assert naming.parse_duration_ms(text) == ms


@pytest.mark.parametrize("bad", ["10", "1.5s", "0s", "s", "10 min"])
def test_bad_durations(bad: str) -> None:
    with pytest.raises(ValueError, match="duration"):
        naming.parse_duration_ms(bad)


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("pms.sync", naming.TopicName(QueueType.SYNC, None, "main")),
        ("tenant.t1.operational.dlq", naming.TopicName(QueueType.OPERATIONAL, "t1", "dlq")),
        ("pms.automation.retry.1m", naming.TopicName(QueueType.AUTOMATION, None, "retry", "1m")),
        ("pms.fallback.parked", naming.TopicName(QueueType.FALLBACK, None, "parked")),
        ("pms.unknown", None),
        ("pms.sync.retry.soon", None),
        ("orders", None),
        ("tenant.BAD.sync", None),
    ],
)
def test_parse_topic(name: str, expected: naming.TopicName | None) -> None:
    assert naming.parse_topic(name) == expected


def test_parse_topic_round_trips_with_a_namespace() -> None:
    parsed = naming.parse_topic("stg.tenant.t1.sync.retry.10s", namespace="stg")
    assert parsed == naming.TopicName(QueueType.SYNC, "t1", "retry", "10s", "stg")
    assert parsed.main == "stg.tenant.t1.sync"
    assert naming.parse_topic("tenant.t1.sync", namespace="stg") is None


def test_internal_state_topics_are_shared_for_the_pool_and_prefixed_for_a_tenant() -> None:
    assert naming.held_topic() == "frontdesk.held"
    assert naming.dlq_state_topic("stg") == "stg.frontdesk.dlq.state"
    assert naming.held_topic("stg", "acme") == "stg.tenant.acme.frontdesk.held"
    assert naming.dlq_state_topic(None, "acme") == "tenant.acme.frontdesk.dlq.state"
    assert naming.audit_topic("stg") == "stg.frontdesk.audit"
    # Under the tenant's prefix: its prefixed ACL covers them, and no other tenant's does.
    assert naming.held_topic("stg", "t1").startswith(naming.tenant_prefix("t1", "stg"))
    assert not naming.held_topic("stg", "t10").startswith(naming.tenant_prefix("t1", "stg"))
    # Internal topics are not queue topics: prune and routing never take them for one.
    assert naming.parse_topic("stg.tenant.acme.frontdesk.held", "stg") is None


@pytest.mark.parametrize(
    ("topic", "owner"),
    [
        ("stg.tenant.acme.operational", "acme"),
        ("stg.tenant.acme.operational.retry.1m", "acme"),
        ("stg.tenant.acme.frontdesk.held", "acme"),
        ("stg.pms.operational", None),
        ("stg.frontdesk.held", None),
        ("tenant.acme.operational", None),  # another namespace's
        ("stg.tenant.BAD.operational", None),
        ("stg.tenant.acme", None),
    ],
)
def test_state_owner_follows_the_topic_prefix(topic: str, owner: str | None) -> None:
    assert naming.state_owner(topic, "stg") == owner


def test_state_of_a_topic_lives_with_its_owner() -> None:
    assert naming.held_topic_for("stg.tenant.acme.operational", "stg") == (
        "stg.tenant.acme.frontdesk.held"
    )
    assert naming.held_topic_for("stg.pms.operational", "stg") == "stg.frontdesk.held"
    assert naming.dlq_state_topic_for("tenant.acme.sync.dlq") == "tenant.acme.frontdesk.dlq.state"
    assert naming.dlq_state_topic_for("pms.sync.dlq") == "frontdesk.dlq.state"


def test_a_tenant_without_state_topics_of_its_own_keeps_its_state_in_the_shared_ones() -> None:
    # A worker sees topics of a tenant its topology does not declare (a regex subscription):
    # that tenant's state topics were never created, so its state stays in the shared ones.
    known = {"acme"}
    assert naming.state_owner("stg.tenant.acme.sync", "stg", known) == "acme"
    assert naming.state_owner("stg.tenant.newco.sync", "stg", known) is None
    assert naming.held_topic_for("stg.tenant.newco.sync", "stg", known) == "stg.frontdesk.held"
