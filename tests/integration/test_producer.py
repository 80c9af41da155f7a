"""The producer SDK against a real broker.

Contract: a property's events land on one partition in send order; the tenant header
always equals the payload's tenant; the dedicated tenant's events go to its own topics;
each record carries a parseable W3C traceparent; an invalid event is refused before
anything reaches Kafka; a failed delivery surfaces with the event id.
"""

from __future__ import annotations

import re
from collections import defaultdict

import pytest
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind

from frontdesk import headers as h
from frontdesk.codec import decode
from frontdesk.errors import DeliveryError, EventValidationError
from frontdesk.producer import Producer
from frontdesk.queues import QueueType
from tests.support.kafka import Cluster
from tests.support.producing import DEDICATED, booking, create_main_topics, topology

TRACEPARENT = re.compile(r"^00-([0-9a-f]{32})-([0-9a-f]{16})-[0-9a-f]{2}$")


def test_a_property_s_events_land_on_one_partition_in_send_order(kafka: Cluster) -> None:
    topo = topology()
    create_main_topics(kafka, topo)
    sent: dict[str, list[str]] = defaultdict(list)
    with Producer(config=kafka.config, topology=topo) as producer:
        for n in range(200):
            event = booking("acme", f"p{n % 7}", n)
            producer.send(event)
            sent[event.key].append(str(event.meta.event_id))

    topic = topo.main_topic_for(QueueType.OPERATIONAL, "acme")
    messages = kafka.drain(topic, expected=200)
    assert len(messages) == 200
    partitions: dict[str, set[int]] = defaultdict(set)
    received: dict[str, list[str]] = defaultdict(list)
    for msg in messages:
        event = decode(msg.value())
        key = msg.key().decode()
        assert key == event.key
        partitions[key].add(msg.partition())
        received[key].append(str(event.meta.event_id))
        # the tenant header always equals the payload's tenant
        assert h.get(msg.headers(), h.TENANT) == event.meta.tenant_id
        assert h.get(msg.headers(), h.EVENT_ID) == str(event.meta.event_id)
        assert h.get(msg.headers(), h.EVENT_TYPE) == "BookingCreated"
    assert all(len(p) == 1 for p in partitions.values())
    assert len({p for ps in partitions.values() for p in ps}) > 1  # keys really spread
    assert received == sent


def test_dedicated_tenant_goes_to_its_own_topic(kafka: Cluster) -> None:
    topo = topology()
    create_main_topics(kafka, topo)
    with Producer(config=kafka.config, topology=topo) as producer:
        vip = producer.send(booking(DEDICATED, "tower"), wait=True).result()
        pooled = producer.send(booking("small-inn", "annex"), wait=True).result()
    assert vip.topic == f"{topo.namespace}.tenant.{DEDICATED}.operational"
    assert pooled.topic == f"{topo.namespace}.pms.operational"
    [msg] = kafka.drain(vip.topic, expected=1)
    assert h.get(msg.headers(), h.TENANT) == DEDICATED
    assert decode(msg.value()).meta.tenant_id == DEDICATED


def test_traceparent_is_present_parseable_and_from_a_producer_span(kafka: Cluster) -> None:
    topo = topology()
    create_main_topics(kafka, topo)
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    with Producer(config=kafka.config, topology=topo, tracer_provider=provider) as producer:
        delivered = producer.send(booking(), wait=True).result()

    [msg] = kafka.drain(delivered.topic, expected=1)
    match = TRACEPARENT.match(h.get(msg.headers(), h.TRACEPARENT) or "")
    assert match, msg.headers()
    [span] = exporter.get_finished_spans()
    assert span.kind is SpanKind.PRODUCER
    assert span.name == f"send {delivered.topic}"
    assert span.context is not None
    assert match.group(1) == f"{span.context.trace_id:032x}"
    assert match.group(2) == f"{span.context.span_id:016x}"
    assert span.attributes is not None
    assert span.attributes["messaging.message.id"] == delivered.event_id


def test_invalid_event_is_refused_and_nothing_reaches_kafka(kafka: Cluster) -> None:
    topo = topology()
    create_main_topics(kafka, topo)
    topic = topo.main_topic_for(QueueType.OPERATIONAL, "acme")
    before = kafka.end_offsets(topic)
    good = booking()
    bad_tenant = good.model_copy(update={"meta": good.meta.model_copy(update={"tenant_id": "A/B"})})
    with Producer(config=kafka.config, topology=topo) as producer:
        with pytest.raises(EventValidationError, match="tenant id") as info:
            producer.send(bad_tenant)
        assert info.value.field == "meta.tenant_id"
        with pytest.raises(EventValidationError, match="expected a frontdesk event"):
            producer.send({"booking_id": "B-1"})  # type: ignore[arg-type]
        producer.flush()
    assert kafka.end_offsets(topic) == before


def test_failed_delivery_surfaces_with_the_event_id(kafka: Cluster) -> None:
    topo = topology()  # topics never created, and the broker does not auto-create them
    event = booking()
    with Producer(config=kafka.config, topology=topo, **{"message.timeout.ms": 1500}) as producer:
        delivery = producer.send(event)
        with pytest.raises(DeliveryError) as info:
            delivery.result(timeout=20)
        assert info.value.event_id == str(event.meta.event_id)
        assert info.value.topic == topo.main_topic_for(QueueType.OPERATIONAL, "acme")
        assert str(event.meta.event_id) in str(info.value)

        # an uncollected failure is raised by flush(), also naming the event
        other = booking(n=2)
        producer.send(other)
        with pytest.raises(DeliveryError) as flushed:
            producer.flush(timeout=20)
        assert flushed.value.event_id == str(other.meta.event_id)
