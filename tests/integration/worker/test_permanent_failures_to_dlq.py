"""Contract: a handler's permanent failure goes to the DLQ without retries: a
`NonRetryableError`, or an exception type the handler's policy lists as non-retryable. A
failure that stays retryable goes to the DLQ after its last attempt
(``retries_exhausted``). Dead letters keep the key and value bytes and carry the reason,
error class and message, a stack trace, the attempt count and the original coordinates.
"""

from __future__ import annotations

import frontdesk
from frontdesk import headers
from frontdesk.events import BookingCreated
from tests.integration.worker.harness import drain_all, eventually, header, make_topology, running
from tests.support.events import booking, publish
from tests.support.kafka import Cluster


class RateTableMissing(LookupError):
    pass


async def test_permanent_failures_and_exhausted_retries(kafka: Cluster) -> None:
    topology = make_topology(kafka, partitions=2, tiers="1s")
    main = f"{topology.namespace}.pms.operational"
    events = {
        "refused": booking("refused", property_id="p1"),
        "listed": booking("listed", property_id="p2"),
        "always": booking("always", property_id="p3"),
        "fine": booking("fine", property_id="p4"),
    }
    publish(kafka.config, main, events.values())
    app = frontdesk.App("permanent", queue="operational")
    calls: dict[str, list[int]] = {}

    @app.handler(BookingCreated, non_retryable=(RateTableMissing,), max_attempts=2)
    async def on_booking(event: BookingCreated, ctx: frontdesk.Context) -> None:
        calls.setdefault(event.booking_id, []).append(ctx.attempt)
        if event.booking_id == "refused":
            raise frontdesk.NonRetryableError("guest is on the block list")
        if event.booking_id == "listed":
            raise RateTableMissing("no rate table for DBL")
        if event.booking_id == "always":
            raise TimeoutError("lock service down")

    async with running(app, kafka, topology) as worker:
        await eventually(lambda: worker.stats()["dead_lettered"] == 3, message="3 dead letters")

    assert calls == {"refused": [1], "listed": [1], "always": [1, 2], "fine": [1]}
    source = {header(m, headers.EVENT_ID): m for m in drain_all(kafka, main)}
    letters = {header(m, headers.EVENT_ID): m for m in drain_all(kafka, f"{main}.dlq")}
    expected = {
        "refused": ("non_retryable", "frontdesk.worker.errors.NonRetryableError", "1"),
        "listed": ("non_retryable", f"{__name__}.RateTableMissing", "1"),
        "always": ("retries_exhausted", "builtins.TimeoutError", "2"),
    }
    assert len(letters) == 3
    for name, (reason, error_class, attempts) in expected.items():
        event_id = str(events[name].meta.event_id)
        m = letters[event_id]
        original = source[event_id]
        assert m.key() == original.key()
        assert m.value() == original.value()
        assert header(m, headers.REASON) == reason
        assert header(m, headers.ERROR_CLASS) == error_class
        assert header(m, headers.ATTEMPT) == attempts
        assert header(m, headers.ORIGINAL_TOPIC) == main
        assert header(m, headers.ORIGINAL_PARTITION) == str(original.partition())
        assert header(m, headers.ORIGINAL_OFFSET) == str(original.offset())
        assert header(m, headers.ORIGINAL_TIMESTAMP) == str(original.timestamp()[1])
        assert "Traceback" in (header(m, headers.STACK_TRACE) or "")
        assert header(m, headers.DUE_AT) is None
        assert header(m, headers.TENANT) == "acme", "the producer's headers are kept"
    retried = drain_all(kafka, f"{main}.retry.1s", idle=0.5)
    assert [header(m, headers.EVENT_ID) for m in retried] == [str(events["always"].meta.event_id)]
