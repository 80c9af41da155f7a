"""Hole: the producer sent events that never passed validation.

Events built with ``model_copy(update=...)`` or ``model_construct`` skip pydantic, and six
of seven such invalid events were sent (the workers dead-lettered them later); and
``adults=True`` silently became 1.

Contract (real broker): the sync producer, the asyncio producer and the outbox writer
validate whatever event they are given before encoding it. An invalid event is refused
with ``EventValidationError`` naming the field, and nothing is sent or stored: the topic
holds exactly the valid events sent around the refused ones (another tenant's included),
in order. Ints and bools are strict: ``True`` is no int, ``2.0`` is no int, ``1`` is no
bool. A subclass of a shipped event (its own, looser validation) is refused too.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from frontdesk.codec import decode
from frontdesk.errors import EventValidationError
from frontdesk.events import BookingCreated, Event
from frontdesk.outbox import Outbox, open_store
from frontdesk.producer import AsyncProducer, Producer
from tests.support.kafka import Cluster
from tests.support.producing import booking, create_main_topics, topology


class _Loose(BookingCreated):
    """A subclass that drops the order rule: its own validation is not the contract's."""

    _order_rules = ()


def _with_meta(event: Event, **meta: Any) -> Event:
    return event.model_copy(update={"meta": event.meta.model_copy(update=meta)})


def _fields(event: Event) -> dict[str, Any]:
    return {name: getattr(event, name) for name in type(event).model_fields}


BYPASSES: dict[str, tuple[Callable[[BookingCreated], Event], str]] = {
    "copy: adults=True": (lambda e: e.model_copy(update={"adults": True}), "adults"),
    "copy: adults=2.0": (lambda e: e.model_copy(update={"adults": 2.0}), "adults"),
    "copy: children='1'": (lambda e: e.model_copy(update={"children": "1"}), "children"),
    "copy: currency": (lambda e: e.model_copy(update={"currency": "euro"}), "currency"),
    "copy: stay ends first": (
        lambda e: e.model_copy(update={"departure": date(2025, 6, 1)}),
        "departure",
    ),
    "copy: unknown field": (lambda e: e.model_copy(update={"is_admin": True}), "is_admin"),
    "copy: meta as a dict": (lambda e: e.model_copy(update={"meta": {"tenant_id": "b"}}), "meta"),
    "copy: tenant id with newline": (lambda e: _with_meta(e, tenant_id="acme\n"), "tenant_id"),
    "copy: tenant id of another shape": (lambda e: _with_meta(e, tenant_id="../b"), "tenant_id"),
    "copy: property id with slash": (lambda e: _with_meta(e, property_id="p/1"), "property_id"),
    "copy: wrong event type": (lambda e: _with_meta(e, event_type="BookingCancelled"), "meta"),
    "construct: adults=True": (
        lambda e: BookingCreated.model_construct(**{**_fields(e), "adults": True}),
        "adults",
    ),
    "construct: missing fields": (
        lambda e: BookingCreated.model_construct(meta=e.meta, booking_id="B-1"),
        "guest_id",
    ),
    "construct: meta constructed": (
        lambda e: BookingCreated.model_construct(
            **{
                **_fields(e),
                "meta": type(e.meta).model_construct(**{**_fields(e.meta), "tenant_id": "B"}),
            }
        ),
        "tenant_id",
    ),
    "subclass with looser rules": (
        lambda e: _Loose.model_validate(
            {**e.model_dump(), "departure": date(2025, 6, 1), "arrival": date(2025, 7, 1)}
        ),
        "event_type",
    ),
}


def _refused(send: Callable[[Event], Any], event: Event, field: str) -> None:
    with pytest.raises(EventValidationError) as info:
        send(event)
    # `.field` is the path of a field's own error; a rule across fields (a stay that ends
    # before it starts) has no single path, and its message names the fields instead.
    assert field in (info.value.field or "") or field in str(info.value), str(info.value)


def test_strict_types_at_construction() -> None:
    for value in (True, 2.0, "2"):
        with pytest.raises(ValueError, match="adults"):
            booking(adults=value)
    assert booking(adults=2).adults == 2


def test_sync_producer_sends_nothing_invalid(kafka: Cluster) -> None:
    topo = topology("bypass")
    create_main_topics(kafka, topo)
    valid = booking("acme", "p1", 0)
    sent: list[Event] = []
    with Producer(config=kafka.config, topology=topo) as producer:
        producer.send(valid, wait=True)
        sent.append(valid)
        for name, (forge, field) in BYPASSES.items():
            forged = forge(booking("acme", "p1", len(sent)))
            assert isinstance(forged, Event), name
            _refused(producer.send, forged, field)
            later = booking("other", "p9", len(sent))  # the next tenant is not held up
            producer.send(later)
            sent.append(later)
        producer.flush()
    topic = topo.main_topic_for(valid.queue, "acme")
    records = kafka.drain(topic, expected=len(sent) + 1, timeout=10)
    got = sorted(str(decode(m.value()).meta.event_id) for m in records)
    assert got == sorted(str(e.meta.event_id) for e in sent)


async def test_async_producer_sends_nothing_invalid(kafka: Cluster) -> None:
    topo = topology("bypass-aio")
    create_main_topics(kafka, topo)
    valid = booking("acme", "p1", 0)
    async with AsyncProducer(config=kafka.config, topology=topo) as producer:
        for name, (forge, field) in BYPASSES.items():
            forged = forge(booking("acme", "p1", 1))
            with pytest.raises(EventValidationError) as info:
                await producer.send(forged)
            assert field in (info.value.field or "") or field in str(info.value), name
        # Nothing of the refused events is waiting in the client either.
        assert len(producer) == 0
        await producer.send(valid)
    topic = topo.main_topic_for(valid.queue, "acme")
    records = kafka.drain(topic, expected=2, timeout=10)
    assert [str(decode(m.value()).meta.event_id) for m in records] == [str(valid.meta.event_id)]


def test_outbox_stores_nothing_invalid(tmp_path: Path) -> None:
    topo = topology("bypass-outbox")
    db = tmp_path / "pms.db"
    store = open_store(f"sqlite:///{db}")
    store.create_table()
    outbox = Outbox(topo)
    valid = booking("acme", "p1", 0)
    with sqlite3.connect(db) as conn:
        for forge, field in BYPASSES.values():
            _refused(lambda e: outbox.add(conn, e), forge(booking("acme", "p1", 1)), field)
        outbox.add(conn, valid)
    rows = store.fetch_unsent(100)
    store.close()
    assert [r.event_id for r in rows] == [str(valid.meta.event_id)]
