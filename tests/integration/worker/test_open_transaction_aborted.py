"""Contract: a checkpoint transaction that a broker outage left open (begun, the group's
offsets sent, then neither committed nor aborted) is aborted by the worker on its own,
even when it has nothing more to commit, so the group's offsets become stable again.

Left open, such a transaction makes the group's offsets ``UNSTABLE_OFFSET_COMMIT`` for
its partitions, and their next owner (a ``read_committed`` consumer) fetches nothing
until it ends: the broker-restart scenario once stalled so, because a process that had
lost its partitions attempted no more checkpoints (docs/reliability.md, Finding 7). The
test brings the worker's own transactional producer into that state, with exactly the
calls a failed checkpoint makes before its abort fails, and then leaves the worker alone.
"""

from __future__ import annotations

from confluent_kafka import TopicPartition

import frontdesk
from frontdesk.events import BookingCreated
from frontdesk.worker.handoff import TransactionalCommitter
from tests.integration.worker.harness import eventually, make_topology, running
from tests.support.events import booking, publish
from tests.support.kafka import Cluster

PARTITIONS = 2


def _leave_open(
    committer: TransactionalCommitter, offsets: list[TopicPartition], metadata: object
) -> None:
    """Begin and send the group's offsets, as a checkpoint does, but never end it."""
    committer._begin_and_produce([])
    committer._send_offsets(offsets, metadata)


async def test_idle_worker_aborts_a_transaction_left_open(kafka: Cluster) -> None:
    topology = make_topology(kafka, partitions=PARTITIONS)
    main = f"{topology.namespace}.pms.operational"
    events = [booking(f"B-{i}", property_id=f"p{i}") for i in range(20)]
    publish(kafka.config, main, events)

    app = frontdesk.App("left-open", queue="operational")
    handled: set[str] = set()

    @app.handler(BookingCreated)
    async def on_booking(event: BookingCreated, ctx: frontdesk.Context) -> None:
        handled.add(ctx.event_id)

    async with running(app, kafka, topology) as worker:
        await eventually(lambda: len(handled) == len(events), message="every event handled")
        end = kafka.end_offsets(main)
        await eventually(
            lambda: kafka.committed(worker.group_id, main) == end, message="committed to the end"
        )
        committer = worker._committer
        assert committer is not None
        assert worker._commit_lock is not None
        offsets = [TopicPartition(main, p, o) for p, o in end.items()]
        async with worker._commit_lock:  # no checkpoint runs while the state is set up
            await worker._on_commit_thread(_leave_open, committer, offsets, worker._group_metadata)
            assert committer.open
            assert kafka.unstable_partitions(worker.group_id, main, PARTITIONS) == PARTITIONS

        await eventually(lambda: not committer.open, message="the open transaction aborted")
        assert kafka.unstable_partitions(worker.group_id, main, PARTITIONS) == 0
        assert kafka.committed(worker.group_id, main) == end
        assert worker.stats()["assigned"], "the worker kept its partitions"
