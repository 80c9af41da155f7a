"""Contract: a dead-lettered ordered event keeps its key held until an operator acts, even
across a SIGKILL: a worker process dead-letters a booking (non-retryable) and parks the
property's later bookings; it is killed; its successor restores the hold from the state
topic and parks a booking published after the restart as well. Nothing of the key runs
until ``release`` (`frontdesk.dlq.DlqReview.release`, what ``frontdesk dlq release`` does)
gives up on the dead letter; then the parked bookings run in their original order, and
other properties were never held up.
"""

from __future__ import annotations

from pathlib import Path

from frontdesk.dlq import DlqReview
from frontdesk.worker import held_keys
from tests.integration.worker.harness import WorkerProcess, eventually, make_topology
from tests.support.events import booking, publish
from tests.support.kafka import Cluster


async def test_dead_letter_holds_its_key_through_sigkill_until_release(
    kafka: Cluster, tmp_path: Path
) -> None:
    topology = make_topology(kafka, partitions=2, tiers="1s")
    main = f"{topology.namespace}.pms.operational"
    publish(
        kafka.config,
        main,
        [
            booking("perm-0", property_id="held"),
            booking("ok-1", property_id="held"),
            booking("ok-2", property_id="held"),
            *(booking(f"ok-other-{i}", property_id=f"p{i}") for i in range(5)),
        ],
    )

    def parked(count: int) -> bool:
        found = held_keys(kafka.config, topology)
        return len(found) == 1 and found[0].parked == count and found[0].stage == "dlq"

    (tmp_path / "a").mkdir()
    first = WorkerProcess(kafka, topology, tmp_path / "a")
    try:
        await eventually(lambda: parked(2), timeout=40, message="the key held, two parked")
        others = {f"ok-other-{i}" for i in range(5)}
        await eventually(lambda: others <= booked(first), message="other properties flow")
    finally:
        first.kill()
    assert not {"ok-1", "ok-2"} & booked(first)

    (tmp_path / "b").mkdir()
    second = WorkerProcess(kafka, topology, tmp_path / "b", env={"FD_TEST_DB": str(first.db)})
    second.db = first.db  # one attempts table across both processes
    try:
        publish(kafka.config, main, [booking("ok-3", property_id="held")])
        await eventually(lambda: parked(3), timeout=60, message="the restarted worker parks")
        assert not {"ok-1", "ok-2", "ok-3"} & booked(second)

        review = DlqReview(kafka.config, topology)
        (dead,) = review.dead_letters([f"{main}.dlq"])
        assert dead.key == b"acme/held"
        review.release([dead], reason="booking re-entered by phone", actor="test")

        await eventually(lambda: {"ok-1", "ok-2", "ok-3"} <= booked(second), message="replay")
        await eventually(lambda: held_keys(kafka.config, topology) == [], message="released")
    finally:
        assert second.stop() == 0, second.output()[-3000:]
    rows = second.rows("SELECT booking_id FROM attempts WHERE outcome = 'ok' ORDER BY rowid")
    held_order = [b for (b,) in rows if b in {"ok-1", "ok-2", "ok-3"}]
    assert held_order == ["ok-1", "ok-2", "ok-3"]
    assert second.rows("SELECT count(*) FROM attempts WHERE booking_id = 'perm-0'") == [(1,)]


def booked(process: WorkerProcess) -> set[str]:
    return {b for (b,) in process.rows("SELECT booking_id FROM attempts WHERE outcome = 'ok'")}
