"""A group that consumed part of its queue shows the right lag, oldest age and tenant split.

Contract: per partition, lag = end - committed and the oldest waiting event is the record at
the committed offset; a dedicated tenant's lag comes from its topic, a pooled topic's from
the waiting records' tenant headers, exact when all were read and marked estimated (summing
to the partition's lag) when only a sample was; measuring never joins the group.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

from confluent_kafka import TopicPartition

from frontdesk import headers as hdr
from frontdesk.lag import measure_lag
from frontdesk.naming import main_topic
from tests.support.kafka import Cluster, unique

T0 = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=30)
# partition 0 of the pooled topic, offsets 0..9
POOLED_P0 = ["acme", "globex", "acme", "acme", "globex", "acme", "acme", "globex", "acme", "acme"]


def _ts(seconds: int) -> datetime:
    return T0 + timedelta(seconds=seconds)


def _setup(kafka: Cluster) -> tuple[str, str, str, str]:
    ns = unique("lag").replace("-", "")
    pooled, dedicated = main_topic("operational", None, ns), main_topic("operational", "big", ns)
    kafka.create_topic(pooled, partitions=2)
    kafka.create_topic(dedicated, partitions=1)
    producer = kafka.producer()

    def put(topic: str, partition: int, tenant: str, second: int) -> None:
        producer.produce(
            topic,
            value=b"payload not needed",
            partition=partition,
            headers=[(hdr.TENANT, tenant.encode())],
            timestamp=int(_ts(second).timestamp() * 1000),
        )

    for i, tenant in enumerate(POOLED_P0):
        put(pooled, 0, tenant, i)
    for i in range(10):
        put(pooled, 1, "acme", 100 + i)
    for i in range(5):
        put(dedicated, 0, "big", 200 + i)
    assert producer.flush(30) == 0

    group = unique("lag-workers")
    consumer = kafka.consumer(group)
    consumer.commit(
        offsets=[
            TopicPartition(pooled, 0, 4),
            TopicPartition(pooled, 1, 10),
            TopicPartition(dedicated, 0, 2),
        ],
        asynchronous=False,
    )
    consumer.close()
    return ns, group, pooled, dedicated


def test_lag_oldest_age_and_tenants(kafka: Cluster) -> None:
    ns, group, pooled, dedicated = _setup(kafka)
    report = measure_lag(kafka.admin, kafka.config, [group], namespace=ns)
    (g,) = report.groups
    assert g.members == 0
    rows = {(p.topic, p.partition): p for p in g.partitions}
    assert set(rows) == {(pooled, 0), (pooled, 1), (dedicated, 0)}

    p0 = rows[(pooled, 0)]
    assert (p0.committed, p0.end, p0.lag) == (4, 10, 6)
    assert p0.oldest_timestamp == _ts(4)
    assert (p0.queue, p0.role, p0.tenant) == ("operational", "main", None)
    assert p0.oldest_age_seconds is not None
    assert abs(p0.oldest_age_seconds - (report.taken_at - _ts(4)).total_seconds()) < 1

    p1 = rows[(pooled, 1)]
    assert (p1.lag, p1.oldest_timestamp) == (0, None)

    d0 = rows[(dedicated, 0)]
    assert (d0.committed, d0.end, d0.lag, d0.tenant) == (2, 5, 3, "big")
    assert d0.oldest_timestamp == _ts(202)

    waiting = POOLED_P0[4:]
    tenants = {t.tenant: (t.lag, t.exact) for t in g.tenants}
    assert tenants == {
        "acme": (waiting.count("acme"), True),
        "globex": (waiting.count("globex"), True),
        "big": (3, True),
    }
    assert g.lag == 9
    assert report.to_dict()["groups"][0]["lag"] == 9


def test_pooled_tenant_split_is_sampled_past_the_limit(kafka: Cluster) -> None:
    ns, group, _, _ = _setup(kafka)
    report = measure_lag(kafka.admin, kafka.config, [group], namespace=ns, sample=3)
    (g,) = report.groups
    pooled_tenants = [t for t in g.tenants if t.tenant != "big"]
    assert sum(t.lag for t in pooled_tenants) == 6
    assert not any(t.exact for t in pooled_tenants)
    # offsets 4,5,6 were sampled: globex, acme, acme -> 2/6 and 4/6 of the lag
    assert {t.tenant: t.lag for t in pooled_tenants} == {"globex": 2, "acme": 4}


def test_all_groups_listing_includes_the_group(kafka: Cluster) -> None:
    ns, group, _, _ = _setup(kafka)
    report = measure_lag(kafka.admin, kafka.config, namespace=ns, sample=1)
    assert group in {g.group for g in report.groups}
    assert not any(g.group.startswith("frontdesk-lag-") for g in report.groups)


def test_transaction_markers_are_not_lag(kafka: Cluster) -> None:
    """A transactional producer ends each transaction with a marker that takes an offset no
    consumer ever sees; a group that handled every record has no lag, marker or not. Named
    topics count even before the group has committed on them."""
    topic = kafka.create_topic(unique("lag-txn"), partitions=1)
    untouched = kafka.create_topic(unique("lag-new"), partitions=1)
    producer = kafka.producer(**{"transactional.id": unique("lag-txn")})
    producer.init_transactions(30)
    producer.begin_transaction()
    for n in range(3):
        producer.produce(topic, key=b"k", value=b"v%d" % n)
    producer.commit_transaction(30)
    group = unique("lag-txn-group")
    consumer = kafka.consumer(group, **{"isolation.level": "read_committed"})
    try:
        consumer.assign([TopicPartition(topic, 0, 0)])
        seen = [m for m in (consumer.poll(5) for _ in range(3)) if m is not None]
        assert [m.value() for m in seen] == [b"v0", b"v1", b"v2"]
        consumer.commit(
            offsets=[TopicPartition(topic, 0, seen[-1].offset() + 1)], asynchronous=False
        )
    finally:
        consumer.close()
    assert kafka.end_offsets(topic) == {0: 4}  # three records and the commit marker

    kafka.produce(untouched, [(b"k", b"waiting")])
    report = measure_lag(kafka.admin, kafka.config, [group], topics=[untouched])
    (only,) = report.groups
    by_topic = {p.topic: p.lag for p in only.partitions}
    assert by_topic == {topic: 0, untouched: 1}


def test_console_lag_provider_scopes_tenants(kafka: Cluster) -> None:
    """The console's overview shows a queue's lag to operators and, to a tenant user, only
    that tenant's share; groups that are not worker groups of the namespace are left out."""
    from frontdesk.lag import LagProvider
    from frontdesk.queues import QueueType

    ns = unique("lagview").replace("-", "")
    topic = kafka.create_topic(main_topic("operational", None, ns), partitions=1)
    producer = kafka.producer()
    for tenant in ["acme", "acme", "globex", "acme", "globex"]:
        producer.produce(topic, key=f"{tenant}/p1", value=b"v", headers=[(hdr.TENANT, tenant)])
    assert producer.flush(30) == 0
    worker_group = f"{ns}.frontdesk.housekeeping"
    for group, offset in ((worker_group, 2), (f"{ns}-analyst-sandbox", 0)):
        consumer = kafka.consumer(group)
        consumer.commit(offsets=[TopicPartition(topic, 0, offset)], asynchronous=False)
        consumer.close()

    provider = LagProvider(kafka.config, ns, ttl=0)
    operator = dict(provider.metrics(QueueType.OPERATIONAL, None))
    assert operator["consumer lag"] == "3"  # offsets 2..4; the sandbox group is not counted
    assert operator["oldest waiting event"] != "-"
    assert operator["incoming"] == "-"  # a rate needs a second look
    for _ in range(4):
        producer.produce(topic, key=b"acme/p1", value=b"v", headers=[(hdr.TENANT, "acme")])
    assert producer.flush(30) == 0
    time.sleep(1.1)
    operator = dict(provider.metrics(QueueType.OPERATIONAL, None))
    assert operator["consumer lag"] == "7"
    rate = float(operator["incoming"].removesuffix(" offsets/s"))
    assert rate > 0
    # Tenant users see their own share and nothing about the pooled topic's rate.
    assert provider.metrics(QueueType.OPERATIONAL, "acme") == [("consumer lag (your events)", "5")]
    assert provider.metrics(QueueType.OPERATIONAL, "globex") == [
        ("consumer lag (your events)", "2")
    ]
    assert dict(provider.metrics(QueueType.SYNC, None))["consumer lag"] == "0"
