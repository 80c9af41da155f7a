"""Old and new schema versions interoperate end to end through Kafka.

Contract: bytes a v1 producer of BookingCreated wrote decode into the current (v2) model
after a trip through the broker; what the current producer writes is readable by a
consumer that still only knows v1.
"""

from __future__ import annotations

from io import BytesIO

from fastavro import schemaless_reader, schemaless_writer

from frontdesk import headers as h
from frontdesk.codec import HEADER_SIZE, decode, default_codec
from frontdesk.contracts import default_registry
from frontdesk.events import BookingCreated
from frontdesk.producer import Producer
from tests.support.kafka import Cluster, unique
from tests.support.producing import booking, create_main_topics, topology


def test_v1_bytes_through_kafka_decode_into_the_current_model(kafka: Cluster) -> None:
    topic = kafka.create_topic(unique("v1-to-v2"))
    event = booking(special_requests=None, loyalty_id=None)
    v1 = default_registry().get("BookingCreated", 1)
    out = BytesIO()
    out.write(v1.header)
    schemaless_writer(out, v1.parsed, event.model_dump(exclude={"special_requests", "loyalty_id"}))
    kafka.produce(topic, [(event.key, out.getvalue())])

    [msg] = kafka.drain(topic, expected=1)
    assert default_codec().writer_of(msg.value()).version == 1
    decoded = decode(msg.value())
    assert isinstance(decoded, BookingCreated)
    assert decoded == event
    assert BookingCreated.schema_version == 2


def test_current_producer_output_is_readable_by_a_v1_consumer(kafka: Cluster) -> None:
    topo = topology()
    create_main_topics(kafka, topo)
    event = booking(special_requests="late arrival", loyalty_id="L-9")
    with Producer(config=kafka.config, topology=topo) as producer:
        delivered = producer.send(event, wait=True).result()

    [msg] = kafka.drain(delivered.topic, expected=1)
    registry = default_registry()
    writer = registry.by_fingerprint(
        bytes.fromhex(h.get(msg.headers(), h.SCHEMA_FINGERPRINT) or "")
    )
    assert writer is not None
    assert writer.version == 2
    v1 = registry.get("BookingCreated", 1)
    old = schemaless_reader(BytesIO(msg.value()[HEADER_SIZE:]), writer.parsed, v1.parsed)
    assert old["booking_id"] == event.booking_id
    assert str(old["meta"]["event_id"]) == str(event.meta.event_id)
    assert "special_requests" not in old
