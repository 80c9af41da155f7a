"""Contract: old consumers read new versions, through the broker.

A worker built with only v1 of BookingCreated (its schemas/ and models stop at v1) handles
the v2 events a newer producer sends: the producer published the v2 writer schema to the
schemas topic before its first v2 event, the worker finds it there, resolves it into v1
and drops v2's new fields. Nothing is dead-lettered and the offsets reach the end.
`frontdesk schemas publish` (publish_registry) is idempotent: a second run writes nothing.
"""

from __future__ import annotations

from pathlib import Path

import frontdesk
from frontdesk import naming
from frontdesk.admin.topics import apply_topics, plan_topics
from frontdesk.contracts import default_registry
from frontdesk.contracts.schemas_topic import SchemaTopicReader, publish_registry
from frontdesk.events import Event
from frontdesk.producer import Producer
from frontdesk.topology import Topology
from tests.integration.worker.harness import drain_all, eventually, make_topology, running
from tests.support.contracts import codec_without
from tests.support.events import booking
from tests.support.kafka import Cluster


def _apply(kafka: Cluster, topology: Topology) -> None:
    plan = plan_topics(kafka.admin, topology)
    plan.changes = [
        c for c in plan.changes if ".operational" in c.describe() or "schemas" in c.describe()
    ]
    apply_topics(kafka.admin, plan)


async def test_a_v1_worker_handles_v2_events_of_a_newer_producer(
    kafka: Cluster, tmp_path: Path
) -> None:
    topology = make_topology(kafka, partitions=1, apply=False)
    _apply(kafka, topology)
    main = f"{topology.namespace}.pms.operational"
    sent = [
        booking(f"B-{i}", special_requests="late arrival", loyalty_id=f"L-{i}") for i in range(5)
    ]
    with Producer(config=kafka.config, topology=topology) as producer:
        for event in sent:
            producer.send(event)
        producer.flush()

    old = codec_without(tmp_path / "schemas", {"BookingCreated": 1})
    old_booking = old.model_of("BookingCreated")
    assert old_booking.schema_version == 1
    app = frontdesk.App("old-consumer", queue="operational")
    handled: list[Event] = []

    @app.handler(old_booking)
    async def on_booking(event: Event, ctx: frontdesk.Context) -> None:
        handled.append(event)

    async with running(app, kafka, topology, codec=old) as worker:
        await eventually(lambda: len(handled) == len(sent), message="every v2 event handled")
        await eventually(
            lambda: kafka.committed(worker.group_id, main) == kafka.end_offsets(main),
            message="offsets at the end",
        )
        assert worker.stats()["dead_lettered"] == 0

    assert [type(e) for e in handled] == [old_booking] * len(sent)
    for got, want in zip(handled, sent, strict=True):
        dumped = got.model_dump()
        assert "special_requests" not in dumped
        assert "loyalty_id" not in dumped
        assert dumped == want.model_dump(exclude={"special_requests", "loyalty_id"})
    assert drain_all(kafka, f"{main}.dlq", idle=1.0) == []


def test_schemas_publish_is_idempotent(kafka: Cluster) -> None:
    topology = make_topology(kafka, partitions=1, apply=False)
    _apply(kafka, topology)
    topic = naming.schemas_topic(topology.namespace)
    registry = default_registry()
    first = publish_registry(kafka.config, topic, registry)
    assert {v.fingerprint for v in first} == {v.fingerprint for v in registry}
    assert publish_registry(kafka.config, topic, registry) == []
    reader = SchemaTopicReader(kafka.config, topic)
    try:
        assert set(reader.known()) == {v.fingerprint for v in registry}
    finally:
        reader.close()
    assert kafka.end_offsets(topic) == {0: len(first)}
