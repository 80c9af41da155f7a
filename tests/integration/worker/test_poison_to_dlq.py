"""Contract: poison input goes to the DLQ at once, byte for byte, with a precise reason:
wrong magic (``bad_magic``), unknown schema fingerprint (``unknown_schema``), truncated
body (``truncated``), a payload the model refuses (``invalid_event``), a tenant header that
contradicts the payload (``tenant_mismatch``) and an event type the app has no handler for
(``no_handler``). None of it crashes the worker or stalls its partition: the good events
around the poison are handled and the committed offset reaches the end of the topic.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import frontdesk
from frontdesk import headers
from frontdesk.codec import default_codec
from frontdesk.events import BookingCancelled, BookingCreated, CancellationParty
from tests.integration.worker.harness import drain_all, eventually, header, make_topology, running
from tests.support.events import booking, envelope, publish_raw
from tests.support.kafka import Cluster


async def test_each_poison_kind_lands_in_the_dlq_with_its_reason(kafka: Cluster) -> None:
    topology = make_topology(kafka, partitions=1)
    main = f"{topology.namespace}.pms.operational"
    codec = default_codec()
    good = booking("good-0")
    body = codec.encode(good)
    invalid = good.model_copy(update={"departure": date(2025, 6, 1)})  # before arrival
    cancelled = BookingCancelled.new(
        tenant_id="acme",
        property_id="lisbon-2",
        booking_id="B-9",
        cancelled_by=CancellationParty.GUEST,
        cancellation_fee=Decimal("0.00"),
        currency="EUR",
    )
    key = good.key.encode()
    poison = {
        "bad_magic": (key, b'{"json": "not avro"}', envelope(good)),
        "unknown_schema": (key, body[:2] + b"\x00" * 8 + body[10:], envelope(good)),
        "truncated": (key, body[:-5], envelope(good)),
        "invalid_event": (key, codec.encode(invalid), envelope(invalid)),
        "tenant_mismatch": (
            key,
            body,
            [(headers.TENANT, b"someone-else"), *envelope(good)[1:]],
        ),
        "no_handler": (cancelled.key.encode(), codec.encode(cancelled), envelope(cancelled)),
    }
    goods = [booking(f"good-{i}") for i in range(1, 8)]
    records = []
    for i, item in enumerate(poison.values()):
        records.append(item)
        g = goods[i]
        records.append((g.key.encode(), codec.encode(g), envelope(g)))
    publish_raw(kafka.config, main, records)

    app = frontdesk.App("poisoned", queue="operational")
    handled: list[str] = []

    @app.handler(BookingCreated)
    async def on_booking(event: BookingCreated, ctx: frontdesk.Context) -> None:
        handled.append(event.booking_id)

    async with running(app, kafka, topology) as worker:
        await eventually(lambda: len(handled) == 6, message="the good events")
        await eventually(
            lambda: kafka.committed(worker.group_id, main) == kafka.end_offsets(main),
            message="offsets past the poison",
        )
        # Counted once the loop resumes after the commit, which the broker may show first.
        await eventually(
            lambda: worker.stats()["dead_lettered"] == len(poison), message="letters counted"
        )

    assert handled == [g.booking_id for g in goods[:6]], "same key, so in order"
    letters = drain_all(kafka, f"{main}.dlq")
    by_reason = {header(m, headers.REASON): m for m in letters}
    assert len(letters) == len(poison)
    assert set(by_reason) == set(poison)
    for reason, (k, value, _) in poison.items():
        m = by_reason[reason]
        assert m.key() == k
        assert m.value() == value, f"{reason}: bytes untouched"
        assert header(m, headers.ORIGINAL_TOPIC) == main
        assert header(m, headers.ORIGINAL_PARTITION) == "0"
        assert header(m, headers.ORIGINAL_OFFSET) is not None
        assert header(m, headers.ERROR_CLASS)
        assert header(m, headers.ERROR_MESSAGE)
        assert header(m, headers.WORKER_ID) == worker.worker_id
        assert header(m, headers.DEAD_LETTERED_AT)
        assert header(m, headers.ATTEMPT) == "1"
    assert int(header(by_reason["no_handler"], headers.ORIGINAL_OFFSET) or -1) == 10
    assert drain_all(kafka, f"{main}.retry.1s", idle=0.5) == []
