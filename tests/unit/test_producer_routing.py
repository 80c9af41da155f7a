"""The producer's pure logic: routing, keys, headers, refusals and settings (no broker)."""

from __future__ import annotations

import pytest

from frontdesk import headers as h
from frontdesk.codec import decode, default_codec
from frontdesk.errors import EventValidationError
from frontdesk.producer import PRODUCER_DEFAULTS, Router, producer_config
from frontdesk.topology.model import parse_topology
from tests.support.producing import booking

TOPOLOGY = parse_topology(
    """
cluster: {namespace: test}
queues: {operational: {}, automation: {}, sync: {}, fallback: {}}
tenants: [{id: vip, mode: dedicated}, {id: small, mode: pooled}]
"""
)


def _router() -> Router:
    return Router(TOPOLOGY, default_codec())


def test_record_is_keyed_routed_and_carries_the_envelope_headers() -> None:
    event = booking("small", "lisbon-1")
    record = _router().prepare(event)
    assert record.topic == "test.pms.operational"
    assert record.key == b"small/lisbon-1"
    assert decode(record.value) == event
    assert h.get(record.headers, h.TENANT) == "small"
    assert h.get(record.headers, h.EVENT_TYPE) == "BookingCreated"
    assert h.get(record.headers, h.EVENT_ID) == str(event.meta.event_id) == record.event_id
    fingerprint = default_codec().registry.latest("BookingCreated").fingerprint_hex
    assert h.get(record.headers, h.SCHEMA_FINGERPRINT) == fingerprint


def test_dedicated_tenant_routes_to_its_prefix_and_unknown_tenants_are_pooled() -> None:
    router = _router()
    assert router.prepare(booking("vip")).topic == "test.tenant.vip.operational"
    assert router.prepare(booking("newcomer")).topic == "test.pms.operational"


def test_cached_route_does_not_leak_headers_between_events() -> None:
    router = _router()
    first, second = router.prepare(booking(n=1)), router.prepare(booking(n=2))
    assert h.get(first.headers, h.EVENT_ID) != h.get(second.headers, h.EVENT_ID)
    assert len(first.headers) == len(second.headers) == 4


def test_non_events_and_bad_tenants_are_refused_with_the_field() -> None:
    router = _router()
    with pytest.raises(EventValidationError, match="expected a frontdesk event"):
        router.prepare("BookingCreated")  # type: ignore[arg-type]
    good = booking()
    for tenant in ("Acme", "a/b", "", "-x"):
        bad = good.model_copy(update={"meta": good.meta.model_copy(update={"tenant_id": tenant})})
        with pytest.raises(EventValidationError) as info:
            router.prepare(bad)
        assert info.value.field == "meta.tenant_id"
    bad_prop = good.model_copy(update={"meta": good.meta.model_copy(update={"property_id": "a/b"})})
    with pytest.raises(EventValidationError) as prop_info:
        router.prepare(bad_prop)
    assert prop_info.value.field == "meta.property_id"


def test_settings_are_safe_and_explicit_config_wins_only_where_given() -> None:
    conf = producer_config(config={"bootstrap.servers": "x:1"}, **{"linger.ms": 1})
    assert conf["bootstrap.servers"] == "x:1"
    assert conf["acks"] == "all"
    assert conf["enable.idempotence"] is True
    assert conf["partitioner"] == "murmur2_random"
    assert conf["compression.type"] in ("lz4", "zstd")
    assert conf["linger.ms"] == 1
    assert PRODUCER_DEFAULTS["queue.buffering.max.messages"] > 0
