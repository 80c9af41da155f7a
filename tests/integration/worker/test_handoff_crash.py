"""Contract: a crash *inside* a hand-off (retry/DLQ records written, transaction not yet
committed) neither loses nor duplicates it. The process is killed with SIGKILL between
producing the hand-off records and committing the transaction; the supervisor restarts
the slot with the same transactional id, which aborts the open transaction. A
read_committed reader then sees each failing event exactly once in the retry tier (and
each permanent failure once in the DLQ), although the aborted copies are in the log.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from frontdesk import headers
from tests.integration.worker.harness import (
    WorkerProcess,
    drain_all,
    eventually,
    header,
    make_topology,
)
from tests.support.events import booking, publish
from tests.support.kafka import Cluster


def uncommitted(kafka: Cluster, topic: str) -> list[object]:
    consumer = kafka.consumer(**{"isolation.level": "read_uncommitted"})
    try:
        consumer.subscribe([topic])
        out = []
        idle = 0
        while idle < 15:
            msg = consumer.poll(0.2)
            if msg is None:
                idle += 1 if consumer.assignment() else 0
                continue
            idle = 0
            out.append(msg)
        return out
    finally:
        consumer.close()


async def test_crash_between_produce_and_commit(kafka: Cluster, tmp_path: Path) -> None:
    topology = make_topology(kafka, partitions=2, tiers="1s")
    main = f"{topology.namespace}.pms.operational"
    flaky = [booking(f"flaky-{i}", property_id=f"p{i}") for i in range(10)]
    perm = [booking(f"perm-{i}", property_id=f"q{i}") for i in range(4)]
    ok = [booking(f"ok-{i}", property_id=f"r{i}") for i in range(30)]
    publish(kafka.config, main, ok[:15] + flaky + perm + ok[15:])
    marker = tmp_path / "crashed"

    worker = WorkerProcess(
        kafka,
        topology,
        tmp_path,
        "--processes",
        "1",
        env={"FD_TEST_CRASH_IN_HANDOFF": str(marker)},
    )
    try:
        await eventually(marker.exists, timeout=60, message="the crash inside a hand-off")
        wanted = {str(e.meta.event_id) for e in ok + flaky}
        await eventually(lambda: wanted <= worker.ok_ids(), timeout=60, message="recovery")
        await eventually(
            lambda: (
                kafka.committed(f"{topology.namespace}.frontdesk.sample", main)
                == kafka.end_offsets(main)
            ),
            timeout=30,
            message="committed to the end",
        )
    finally:
        code = worker.stop()
    assert code == 0, worker.output()[-3000:]
    assert "exited with -9" in worker.output()

    retried = Counter(header(m, headers.EVENT_ID) for m in drain_all(kafka, f"{main}.retry.1s"))
    assert retried == Counter({str(e.meta.event_id): 1 for e in flaky})
    dead = Counter(header(m, headers.EVENT_ID) for m in drain_all(kafka, f"{main}.dlq"))
    assert dead == Counter({str(e.meta.event_id): 1 for e in perm})
    in_log = len(uncommitted(kafka, f"{main}.retry.1s")) + len(uncommitted(kafka, f"{main}.dlq"))
    assert in_log > len(flaky) + len(perm), "the aborted hand-off was really written"
