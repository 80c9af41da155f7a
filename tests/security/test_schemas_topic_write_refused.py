"""Hole: the schemas topic decides how every consumer reads a fingerprint it does not ship.

A tenant (or a compromised writer) able to put a schema there under the fingerprint of a
newer version could make workers misread that version's events: same bytes, another
meaning (here, a guest's name read as their id). CRC-64 is not a cryptographic hash, and
attributes outside the canonical form are not covered by it at all.

Contract:
- a dedicated tenant's principal may READ the schemas topic (its consumers look writer
  schemas up there) but its attempt to WRITE a schema is refused by the broker's ACLs
  (granted by `topics apply`, frontdesk/admin/acls.py), and nothing lands;
- a record planted there anyway (by the admin here, standing for a compromised platform
  writer) whose schema's canonical form does not hash to its key is ignored by the
  worker's codec (frontdesk/contracts/schemas_topic.py, `verified`): the event written
  with that fingerprint is dead-lettered as `unknown_schema`, bytes untouched, and never
  reaches a handler misdecoded;
- a genuinely published newer version in the same topic is still resolved and handled,
  and every other tenant's and key's events before and after the forged one are handled,
  with the committed offsets at the end of the topic.
"""

from __future__ import annotations

import copy
import json
from io import BytesIO
from typing import Any

import pytest
from confluent_kafka import KafkaError, Producer
from fastavro import parse_schema, schemaless_reader
from fastavro.schema import fingerprint, to_parsing_canonical_form

import frontdesk
from frontdesk import headers, naming
from frontdesk.admin.acls import apply_acls, plan_acls
from frontdesk.admin.topics import apply_topics, plan_topics
from frontdesk.codec import default_codec
from frontdesk.contracts import default_registry
from frontdesk.contracts.schemas_topic import SchemaTopicReader, publish_registry, verified
from frontdesk.events import BookingCreated
from frontdesk.topology.model import parse_topology
from tests.integration.worker.harness import TOPOLOGY, drain_all, eventually, header, running
from tests.support.events import booking, envelope, publish_raw
from tests.support.kafka import Cluster, unique
from tests.support.secure import add_user, as_user, retry
from tests.support.wire import single_object

pytestmark = pytest.mark.secure

CURRENT = default_registry().latest("BookingCreated")


def _newer(extra: str) -> dict[str, Any]:
    """A newer BookingCreated than any release ships: the current one plus an optional
    field, which a current worker resolves away once it has the schema."""
    schema = copy.deepcopy(CURRENT.schema)
    schema["fields"].append({"name": extra, "type": ["null", "string"], "default": None})
    return schema


def _swapped(schema: dict[str, Any]) -> dict[str, Any]:
    """The forgery: `schema` with guest_id and guest_name trading places."""
    forged = copy.deepcopy(schema)
    for field in forged["fields"]:
        if field["name"] in ("guest_id", "guest_name"):
            field["name"] = "guest_name" if field["name"] == "guest_id" else "guest_id"
    return forged


def _fingerprint(schema: dict[str, Any]) -> str:
    return str(fingerprint(to_parsing_canonical_form(schema), "CRC-64-AVRO"))


def _produce_one(conf: dict[str, Any], topic: str, key: bytes, value: bytes) -> KafkaError | None:
    errors: list[KafkaError | None] = []
    producer = Producer({**conf, "acks": "all", "message.timeout.ms": 10_000})
    producer.produce(topic, value, key, on_delivery=lambda err, _msg: errors.append(err))
    producer.flush(15)
    assert errors, "no delivery report"
    return errors[0]


def _known(conf: dict[str, Any], topic: str) -> dict[bytes, str]:
    reader = SchemaTopicReader(conf, topic, timeout=10)
    try:
        return reader.known()
    finally:
        reader.close()


async def test_tenant_cannot_write_schemas_and_a_forged_one_is_not_believed(
    secure_kafka: Cluster,
) -> None:
    tenant = unique("t")
    topology = parse_topology(
        TOPOLOGY.format(
            ns=unique("schemas"),
            partitions=1,
            tiers="1s",
            tenants=f'{{id: {tenant}, mode: dedicated, principal: "User:{tenant}"}}',
        )
    )
    admin = secure_kafka.admin
    plan = plan_topics(admin, topology)
    plan.changes = [
        c for c in plan.changes if ".pms.operational" in c.describe() or "schemas" in c.describe()
    ]
    apply_topics(admin, plan)
    apply_acls(admin, plan_acls(admin, topology))
    add_user(admin, tenant, "secret-t")
    tenant_conf = as_user(secure_kafka, tenant, "secret-t")
    schemas = naming.schemas_topic(topology.namespace)
    main = f"{topology.namespace}.pms.operational"
    shipped = {
        v.fingerprint for v in publish_registry(secure_kafka.config, schemas, default_registry())
    }

    # A newer producer's version, published by the platform as it should be...
    genuine = _newer("vip_note")
    genuine_fp = _fingerprint(genuine)
    assert (
        _produce_one(
            secure_kafka.config, schemas, genuine_fp.encode(), json.dumps(genuine).encode()
        )
        is None
    )
    # ...and another whose record a compromised writer forged: the key is the newer
    # version's fingerprint, the value a schema that would read its events wrongly.
    newer = _newer("loyalty_tier")
    newer_fp = _fingerprint(newer)
    forged = _swapped(newer)
    forged_record = (newer_fp.encode(), json.dumps(forged).encode())
    assert verified(*forged_record) is None, "the forgery does not prove itself"

    # The tenant reads the topic: every genuine schema, not the forgery.
    def tenant_reads() -> None:
        known = _known(tenant_conf, schemas)
        assert shipped | {bytes.fromhex(genuine_fp)} <= set(known)

    retry(tenant_reads)
    # The tenant may not write it, neither the forgery nor a well-formed record.
    before = secure_kafka.end_offsets(schemas)
    for key, value in (forged_record, (genuine_fp.encode(), json.dumps(genuine).encode())):
        refused = _produce_one(tenant_conf, schemas, key, value)
        assert refused is not None
        assert refused.code() == KafkaError.TOPIC_AUTHORIZATION_FAILED
    assert secure_kafka.end_offsets(schemas) == before

    # The forgery is planted anyway, and would matter if believed: read through it, the
    # newer event's guest name becomes its guest id.
    assert _produce_one(secure_kafka.config, schemas, *forged_record) is None
    forged_event = booking("B-forged", property_id="faro-1", guest_id="G-7", guest_name="Eve")
    forged_bytes = single_object(newer, {**forged_event.model_dump(), "loyalty_tier": "gold"})
    misread = schemaless_reader(
        BytesIO(forged_bytes[10:]), parse_schema(copy.deepcopy(forged)), CURRENT.parsed
    )
    assert (misread["guest_id"], misread["guest_name"]) == ("Eve", "G-7")

    codec = default_codec()
    genuine_event = booking("B-newer", property_id="porto-1", guest_id="G-8", guest_name="Ana")
    genuine_bytes = single_object(genuine, {**genuine_event.model_dump(), "vip_note": "suite"})
    before_forged = [booking(f"B-{i}") for i in range(3)]
    after_forged = [
        booking(f"B-{i}", tenant_id="globex", property_id="oslo-1") for i in range(3, 6)
    ]
    records = [(e.key.encode(), codec.encode(e), envelope(e)) for e in before_forged]
    records.append((forged_event.key.encode(), forged_bytes, envelope(forged_event)))
    records.append((genuine_event.key.encode(), genuine_bytes, envelope(genuine_event)))
    records += [(e.key.encode(), codec.encode(e), envelope(e)) for e in after_forged]
    publish_raw(secure_kafka.config, main, records)

    app = frontdesk.App("schemas-forgery", queue="operational")
    handled: list[BookingCreated] = []

    @app.handler(BookingCreated)
    async def on_booking(event: BookingCreated, ctx: frontdesk.Context) -> None:
        handled.append(event)

    async with running(app, secure_kafka, topology) as worker:
        others = {e.booking_id for e in [*before_forged, genuine_event, *after_forged]}
        await eventually(
            lambda: others <= {e.booking_id for e in handled}, message="the other events"
        )
        await eventually(
            lambda: secure_kafka.committed(worker.group_id, main) == secure_kafka.end_offsets(main),
            message="offsets past the forged event",
        )
        by_id = {e.booking_id: e for e in handled}
        assert "B-forged" not in by_id, "the forged schema's event reached a handler"
        await eventually(lambda: worker.stats()["dead_lettered"] == 1, message="one letter")

    assert set(by_id) == others
    newer_read = by_id["B-newer"]
    assert (newer_read.guest_id, newer_read.guest_name) == ("G-8", "Ana")
    assert "vip_note" not in newer_read.model_dump(), "resolved into the current version"
    for sent in (*before_forged, *after_forged):
        assert by_id[sent.booking_id] == sent
    letters = drain_all(secure_kafka, f"{main}.dlq", idle=1.0)
    assert len(letters) == 1
    assert header(letters[0], headers.REASON) == "unknown_schema"
    assert letters[0].value() == forged_bytes, "dead-lettered byte for byte"
    assert newer_fp in (header(letters[0], headers.ERROR_MESSAGE) or "")
