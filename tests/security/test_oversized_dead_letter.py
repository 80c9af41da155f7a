"""Hole (issue 9, item 5): a record of about 1.04 MB, under its main topic's limit, had to be
dead-lettered; the runtime's headers pushed it over the limit, the DLQ write failed with
"Message size too large", and every checkpoint transaction aborted: no offset was committed
on any partition again.

Contract: hand-off topics (retry tiers, parked, DLQ, the fallback queue) are declared with
a ``max.message.bytes`` above their main topic's, and a hand-off that still cannot be
written (a DLQ topic and a retry tier created smaller, here) never stalls a partition: the
runtime writes a dead letter that fits instead, reason ``too_large``, with the original
headers, topic, partition and offset, the payload dropped and its size in
``fd-dropped-bytes``; the same for a retry that does not fit its tier. Offsets keep being
committed and every other event, of this tenant and the others, is handled.
"""

from __future__ import annotations

from pathlib import Path

from confluent_kafka.admin import ResourceType
from confluent_kafka.admin._config import AlterConfigOpType, ConfigEntry, ConfigResource

from frontdesk import headers
from frontdesk.codec import encode
from frontdesk.topology.model import BROKER_MAX_MESSAGE_BYTES, HANDOFF_HEADROOM_BYTES
from tests.integration.worker.harness import (
    WorkerProcess,
    drain_all,
    eventually,
    header,
    make_topology,
    sample_group,
    settled,
)
from tests.support.events import booking, envelope, publish, publish_raw
from tests.support.kafka import Cluster

BIG = 1_040_000


async def test_a_dead_letter_too_large_for_its_topic_never_stalls_the_partition(
    kafka: Cluster, tmp_path: Path
) -> None:
    topology = make_topology(kafka, partitions=1, tiers="1s")
    main = f"{topology.namespace}.pms.operational"
    dlq = f"{main}.dlq"
    declared = {s.name: s.config for s in topology.topics()}
    for handoff in (
        dlq,
        f"{main}.retry.1s",
        f"{main}.parked",
        f"{topology.namespace}.pms.fallback",
    ):
        limit = int(declared[handoff]["max.message.bytes"])
        assert limit >= BROKER_MAX_MESSAGE_BYTES + HANDOFF_HEADROOM_BYTES, handoff
    # A DLQ topic and a retry tier made before hand-off topics were sized (or shrunk by
    # hand): 1 MB, less than what their main topic takes.
    retry = f"{main}.retry.1s"
    entry = ConfigEntry("max.message.bytes", "1000000", incremental_operation=AlterConfigOpType.SET)
    resources = [
        ConfigResource(ResourceType.TOPIC, t, incremental_configs=[entry]) for t in (dlq, retry)
    ]
    for future in kafka.admin.incremental_alter_configs(resources).values():
        future.result(timeout=30)

    poison = booking("poison", tenant_id="acme", property_id="p-big")
    blob = b"\x00" * BIG  # not Avro: bad_magic, the DLQ at once
    big_config = {**kafka.config, "message.max.bytes": 2_000_000}
    publish_raw(big_config, main, [(poison.key.encode(), blob, envelope(poison))])
    # A valid event made as large by a header its producer piled on, whose first attempt
    # fails (flaky-*): its retry cannot be written to the tier, nor a dead letter keeping
    # that header, so it becomes a too_large dead letter with only the envelope and
    # runtime headers.
    big = booking("flaky-big", tenant_id="acme", property_id="p-flaky")
    publish(big_config, main, [big], extra_headers=[("x-blob", b"A" * BIG)])
    later = [booking(f"ok-acme-{i}", tenant_id="acme", property_id="p-big") for i in range(3)]
    later += [booking(f"ok-other-{i}", tenant_id="other", property_id="p1") for i in range(5)]
    publish(kafka.config, main, later)

    worker = WorkerProcess(kafka, topology, tmp_path)
    try:
        await eventually(
            lambda: {e.booking_id for e in later} <= worker.ok_ids_by_booking(),
            timeout=60,
            message="the later events of both tenants",
        )
        await settled(kafka, sample_group(topology), main)
    finally:
        assert worker.stop() == 0, worker.output()[-3000:]

    letters = {header(m, headers.EVENT_ID): m for m in drain_all(kafka, dlq)}
    assert set(letters) == {str(poison.meta.event_id), str(big.meta.event_id)}
    for event, offset, dropped in ((poison, "0", BIG), (big, "1", len(encode(big)))):
        letter = letters[str(event.meta.event_id)]
        assert header(letter, headers.REASON) == "too_large"
        assert header(letter, headers.DROPPED_BYTES) == str(dropped)
        assert not letter.value(), "the payload was dropped"
        assert letter.key() == event.key.encode()
        assert header(letter, headers.ORIGINAL_TOPIC) == main
        assert header(letter, headers.ORIGINAL_PARTITION) == "0"
        assert header(letter, headers.ORIGINAL_OFFSET) == offset
        assert header(letter, headers.TENANT) == "acme"
    assert header(letters[str(big.meta.event_id)], "x-blob") is None
    assert worker.rows("SELECT attempt, outcome FROM attempts WHERE booking_id = 'flaky-big'") == [
        (1, "failed")
    ]
