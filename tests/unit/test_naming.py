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
