"""Contract: a worker process killed with SIGKILL in the middle of a run loses nothing.
Two supervised processes share the group; one is killed while events are flowing; the
supervisor restarts it. Every event is then handled successfully at least once, every
transient failure appears in the retry tier exactly once (the hand-off is transactional,
so a crash cannot duplicate it), and the committed offsets reach the end of the topic.
"""

from __future__ import annotations

import os
import signal
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


async def test_sigkill_mid_run_loses_nothing(kafka: Cluster, tmp_path: Path) -> None:
    topology = make_topology(kafka, partitions=4, tiers="1s")
    main = f"{topology.namespace}.pms.operational"
    flaky = [booking(f"flaky-{i}", property_id=f"p{i % 40}") for i in range(60)]
    slow = [booking(f"slow-{i}", property_id=f"p{i % 40}") for i in range(1200)]
    events = slow[:600] + flaky + slow[600:]
    publish(kafka.config, main, events)

    worker = WorkerProcess(
        kafka, topology, tmp_path, "--processes", "2", env={"FD_TEST_CONCURRENCY": "8"}
    )
    try:
        await eventually(lambda: len(worker.ok_ids()) >= 300, timeout=60, message="progress")
        per_pid = Counter(r[0] for r in worker.rows("SELECT pid FROM attempts"))
        victim = per_pid.most_common(1)[0][0]
        os.kill(victim, signal.SIGKILL)
        done_at_kill = len(worker.ok_ids())
        assert done_at_kill < len(events), "the kill must land mid-run"

        wanted = {str(e.meta.event_id) for e in events}
        await eventually(lambda: wanted <= worker.ok_ids(), timeout=90, message="every event")
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

    pids = {r[0] for r in worker.rows("SELECT DISTINCT pid FROM attempts")}
    assert victim in pids
    assert len(pids) >= 3, "the killed slot was restarted"
    retried = Counter(header(m, headers.EVENT_ID) for m in drain_all(kafka, f"{main}.retry.1s"))
    assert set(retried) == {str(e.meta.event_id) for e in flaky}
    assert max(retried.values()) == 1, "a hand-off is never duplicated"
    assert drain_all(kafka, f"{main}.dlq", idle=0.5) == []
    assert "exited with -9" in worker.output()
