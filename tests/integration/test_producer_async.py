"""The asyncio producer: `await send()` returns only once Kafka stored the event.

Contract: each awaited send reports the partition and offset the event really has; many
concurrent sends of one property keep their order on its partition; a failed delivery
raises `DeliveryError` with the event id.
"""

from __future__ import annotations

import asyncio

import pytest

from frontdesk.codec import decode
from frontdesk.errors import DeliveryError
from frontdesk.producer import AsyncProducer
from tests.support.kafka import Cluster
from tests.support.producing import booking, create_main_topics, topology


async def test_await_send_confirms_each_event_with_its_offset(kafka: Cluster) -> None:
    topo = topology()
    create_main_topics(kafka, topo)
    events = [booking("acme", "p1", n) for n in range(50)]
    async with AsyncProducer(config=kafka.config, topology=topo) as producer:
        first = await producer.send(events[0])
        rest = await asyncio.gather(*(producer.send(e) for e in events[1:]))
    delivered = [first, *rest]
    assert [d.event_id for d in delivered] == [str(e.meta.event_id) for e in events]
    assert len({d.partition for d in delivered}) == 1
    offsets = [d.offset for d in delivered]
    assert offsets == sorted(offsets)
    assert len(set(offsets)) == 50

    messages = kafka.drain(first.topic, expected=50)
    by_offset = {m.offset(): decode(m.value()) for m in messages}
    for d in delivered:
        assert str(by_offset[d.offset].meta.event_id) == d.event_id


async def test_async_failed_delivery_raises_with_the_event_id(kafka: Cluster) -> None:
    topo = topology()  # no topics: delivery must fail
    event = booking()
    producer = AsyncProducer(config=kafka.config, topology=topo, **{"message.timeout.ms": 1500})
    try:
        with pytest.raises(DeliveryError) as info:
            await asyncio.wait_for(producer.send(event), timeout=20)
        assert info.value.event_id == str(event.meta.event_id)
    finally:
        await producer.close()
