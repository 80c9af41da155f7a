"""Contract: a record that trips a bug in the runtime itself (here, a codec that raises
something no decoder should) is dead-lettered with reason ``internal_error`` and logged;
the worker neither crashes nor restarts at the same offset, and the events after it, of
every tenant, are handled and committed.
"""

from __future__ import annotations

import logging

import pytest

import frontdesk
from frontdesk import headers
from frontdesk.codec import Codec
from frontdesk.events import BookingCreated, Event
from tests.integration.worker.harness import drain_all, eventually, header, make_topology, running
from tests.support.events import booking, publish
from tests.support.kafka import Cluster


class BuggyCodec(Codec):
    """Raises a plain `RuntimeError` (not a `DecodeError`) for one booking id."""

    def decode(self, data: bytes) -> Event:
        if b"bug-1" in data:
            raise RuntimeError("a bug in the runtime")
        return super().decode(data)


async def test_a_runtime_bug_dead_letters_the_record_instead_of_crash_looping(
    kafka: Cluster, caplog: pytest.LogCaptureFixture
) -> None:
    topology = make_topology(kafka, partitions=1)
    main = f"{topology.namespace}.pms.operational"
    events = [booking("bug-1", tenant_id="acme")]
    events += [booking(f"ok-{i}", tenant_id=t) for i in range(3) for t in ("acme", "beta")]
    publish(kafka.config, main, events)
    app = frontdesk.App("buggy", queue="operational")
    handled: list[str] = []

    @app.handler(BookingCreated)
    async def on_booking(event: BookingCreated, ctx: frontdesk.Context) -> None:
        handled.append(event.booking_id)

    with caplog.at_level(logging.ERROR, logger="frontdesk.worker"):
        async with running(app, kafka, topology, codec=BuggyCodec()) as worker:
            await eventually(lambda: len(handled) == 6, message="the events after the bug")
            await eventually(
                lambda: kafka.committed(worker.group_id, main) == kafka.end_offsets(main),
                message="offsets past the record",
            )
    letters = drain_all(kafka, f"{main}.dlq")
    assert [header(m, headers.REASON) for m in letters] == ["internal_error"]
    assert header(letters[0], headers.ERROR_MESSAGE) == "a bug in the runtime"
    assert "dead-lettering it as internal_error" in caplog.text
