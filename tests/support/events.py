"""Build and publish test events the way the producer SDK does: codec bytes, key
``<tenant>/<property>``, Java-compatible murmur2 partitioning, and the envelope headers."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from datetime import date
from decimal import Decimal
from typing import Any

from confluent_kafka import Producer

from frontdesk import headers
from frontdesk.codec import default_codec
from frontdesk.events import BookingCreated, BookingStatus, Channel, Event


def booking(
    booking_id: str = "B-1",
    *,
    tenant_id: str = "acme",
    property_id: str = "lisbon-1",
    **fields: Any,
) -> BookingCreated:
    """A valid `BookingCreated`; tests steer sample handlers through ``booking_id``."""
    values: dict[str, Any] = {
        "room_type_id": "DBL",
        "guest_id": "G-1",
        "guest_name": "Ana Silva",
        "arrival": date(2025, 7, 1),
        "departure": date(2025, 7, 4),
        "adults": 2,
        "children": 0,
        "channel": Channel.DIRECT,
        "status": BookingStatus.CONFIRMED,
        "total_amount": Decimal("412.50"),
        "currency": "EUR",
        **fields,
    }
    return BookingCreated.new(
        tenant_id=tenant_id,
        property_id=property_id,
        booking_id=booking_id,
        event_id=uuid.uuid4(),
        **values,
    )


def envelope(event: Event) -> list[tuple[str, bytes]]:
    return [
        (headers.TENANT, event.meta.tenant_id.encode()),
        (headers.EVENT_TYPE, event.event_type.encode()),
        (headers.EVENT_ID, str(event.meta.event_id).encode()),
    ]


def producer(config: Mapping[str, Any]) -> Producer:
    return Producer(
        {**config, "partitioner": "murmur2_random", "enable.idempotence": True, "linger.ms": 5}
    )


def publish(
    config: Mapping[str, Any],
    topic: str,
    events: Iterable[Event],
    *,
    extra_headers: list[tuple[str, bytes]] | None = None,
) -> int:
    """Produce ``events`` to ``topic`` and wait until all are delivered."""
    p = producer(config)
    codec = default_codec()
    count = 0
    for event in events:
        p.produce(
            topic,
            key=event.key.encode(),
            value=codec.encode(event),
            headers=[*envelope(event), *(extra_headers or [])],
        )
        count += 1
        if count % 1000 == 0:
            p.poll(0)
    remaining = p.flush(30)
    assert remaining == 0, f"{remaining} events not delivered"
    return count


def publish_raw(
    config: Mapping[str, Any],
    topic: str,
    records: Iterable[tuple[bytes | None, bytes, list[tuple[str, bytes]]]],
) -> None:
    """Produce arbitrary (key, value, headers): poison for the DLQ scenarios."""
    p = producer(config)
    for key, value, record_headers in records:
        p.produce(topic, key=key, value=value, headers=record_headers)
    assert p.flush(30) == 0
