"""Contract: ``dlq held`` says where a key's holder waits now. A booking that keeps failing
holds its key at stage ``retry`` when it leaves the main topic; when the tier consumer
dead-letters it (retries exhausted), the key is reported at stage ``dlq`` (by `held_keys`,
the CLI and the console's overview alike), not ``retry`` as before, while the property's
later booking stays parked and other properties flow.
"""

from __future__ import annotations

import json
from pathlib import Path

from frontdesk.dlq import DlqReview
from frontdesk.worker import held_keys
from tests.integration.worker.harness import WorkerProcess, eventually, make_topology
from tests.support import dlq as support
from tests.support.events import booking, publish
from tests.support.kafka import Cluster


async def test_held_stage_follows_the_holder_to_the_dlq(kafka: Cluster, tmp_path: Path) -> None:
    topology = make_topology(kafka, partitions=1, tiers="1s")
    main = f"{topology.namespace}.pms.operational"
    publish(
        kafka.config,
        main,
        [
            booking("fail-0", property_id="held"),
            booking("ok-1", property_id="held"),
            *(booking(f"ok-other-{i}", property_id=f"p{i}") for i in range(3)),
        ],
    )

    def stages() -> list[str]:
        return [h.stage for h in held_keys(kafka.config, topology)]

    worker = WorkerProcess(kafka, topology, tmp_path)
    try:
        await eventually(lambda: stages() == ["dlq"], timeout=60, message="held at stage dlq")
        (dead,) = DlqReview(kafka.config, topology).dead_letters([f"{main}.dlq"])
        assert dead.reason == "retries_exhausted"
        result = support.frontdesk(kafka, topology, tmp_path, "dlq", "held", "--json")
        assert result.exit_code == 0, result.output
        (row,) = json.loads(result.stdout)
        assert (row["key"], row["stage"], row["parked"]) == ("acme/held", "dlq", 1)
        ok = {b for (b,) in worker.rows("SELECT booking_id FROM attempts WHERE outcome='ok'")}
        assert {f"ok-other-{i}" for i in range(3)} <= ok
        assert "ok-1" not in ok
    finally:
        assert worker.stop() == 0, worker.output()[-3000:]
