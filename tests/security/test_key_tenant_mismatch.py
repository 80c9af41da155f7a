"""Hole (issue 9, item 6): the worker did not check the key's tenant. A payload of tenant A
keyed ``B/<property>`` was handled; when it failed, it held tenant B's key, and B's own
events were parked behind it.

Contract: the key (``<tenant>/<property>`` of the payload), the topic (for a dedicated
tenant), the ``fd-tenant`` header and the payload's ``meta.tenant_id`` agree, or the record
is dead-lettered as ``tenant_mismatch`` before any handler runs, and holds nothing. A record
with no key or a garbled key is dead-lettered the same way. Tenant B's events on the key
that was named are handled, in order, never parked; every offset is committed.
"""

from __future__ import annotations

from pathlib import Path

from frontdesk import headers
from frontdesk.codec import default_codec
from frontdesk.worker.holds import held_keys
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


async def test_a_record_whose_key_names_another_tenant_holds_nothing(
    kafka: Cluster, tmp_path: Path
) -> None:
    topology = make_topology(kafka, partitions=1, tiers="1s", dedicated=("dedi",))
    ns = topology.namespace
    main = f"{ns}.pms.operational"
    dedicated = f"{ns}.tenant.dedi.operational"
    codec = default_codec()

    # Tenant acme's failing events (perm-*: NonRetryableError), keyed to name tenant beta.
    hostile = [booking(f"perm-{i}", tenant_id="acme", property_id="p1") for i in range(4)]
    forged = [
        (b"beta/p1", hostile[0]),  # another tenant's key
        (None, hostile[1]),  # no key
        (b"\xff\xfe/p1", hostile[2]),  # garbled key
        (b"acme/elsewhere", hostile[3]),  # another property than the payload's
    ]
    publish_raw(kafka.config, main, [(key, codec.encode(e), envelope(e)) for key, e in forged])
    header_lie = booking("perm-header", tenant_id="acme", property_id="p1")
    lie = [(headers.TENANT, b"beta"), *envelope(header_lie)[1:]]
    publish_raw(kafka.config, main, [(b"acme/p1", codec.encode(header_lie), lie)])
    # A pooled tenant's event written to dedicated tenant dedi's topic.
    intruder = booking("perm-intruder", tenant_id="acme", property_id="p1")
    publish(kafka.config, dedicated, [intruder])
    # Then beta's own events on the key that was named, and dedi's on its topic.
    beta = [booking(f"ok-beta-{i}", tenant_id="beta", property_id="p1") for i in range(5)]
    publish(kafka.config, main, beta)
    dedi = [booking(f"ok-dedi-{i}", tenant_id="dedi", property_id="p1") for i in range(3)]
    publish(kafka.config, dedicated, dedi)

    worker = WorkerProcess(kafka, topology, tmp_path)
    try:
        wanted = {e.booking_id for e in beta + dedi}
        await eventually(
            lambda: wanted <= worker.ok_ids_by_booking(), timeout=60, message="beta and dedi"
        )
        await settled(kafka, sample_group(topology), main, dedicated)
    finally:
        assert worker.stop() == 0, worker.output()[-3000:]

    ran = {r[0] for r in worker.rows("SELECT booking_id FROM attempts")}
    assert not {b for b in ran if b.startswith("perm-")}, "no mismatched record reached a handler"
    order = [r[0] for r in worker.rows("SELECT booking_id FROM attempts ORDER BY at")]
    assert [b for b in order if b.startswith("ok-beta")] == [e.booking_id for e in beta]
    assert held_keys(kafka.config, topology) == [], "nothing was held, beta's key least of all"

    pooled = drain_all(kafka, f"{main}.dlq")
    assert [header(m, headers.REASON) for m in pooled] == ["tenant_mismatch"] * 5
    own = drain_all(kafka, f"{dedicated}.dlq")
    assert [header(m, headers.REASON) for m in own] == ["tenant_mismatch"]
    assert header(own[0], headers.EVENT_ID) == str(intruder.meta.event_id)
