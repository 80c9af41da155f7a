"""Contract: a PMS process that sends events and exits without closing its producer loses
none of them: an atexit hook flushes every producer left open, blocking and asyncio alike.

Each case runs a short Python process that queues ``EVENTS`` events (the asyncio one from
inside ``asyncio.run``, never awaiting a confirmation) and returns from its main code at
once; the test then finds every event on the topic.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from frontdesk.codec import decode
from frontdesk.queues import QueueType
from tests.integration.worker.harness import REPO, write_topology
from tests.support.kafka import Cluster
from tests.support.producing import create_main_topics, topology

EVENTS = 200

SCRIPTS = {
    "blocking": """
from frontdesk.producer import Producer
producer = Producer(config=config, topology=topo)
for n in range(EVENTS):
    producer.send(booking("acme", f"p{n % 7}", n))
""",
    "asyncio": """
import asyncio
from frontdesk.producer import AsyncProducer

async def main():
    producer = AsyncProducer(config=config, topology=topo)
    for n in range(EVENTS):
        await producer.enqueue(booking("acme", f"p{n % 7}", n))

asyncio.run(main())
""",
}

PRELUDE = """
import json, os, sys
from frontdesk.topology import load_topology
from tests.support.producing import booking
config = json.loads(os.environ["FD_TEST_CONFIG"])
topo = load_topology(os.environ["FD_TEST_TOPOLOGY"])
EVENTS = int(os.environ["FD_TEST_EVENTS"])
"""


@pytest.mark.parametrize("kind", sorted(SCRIPTS))
def test_events_of_a_producer_left_open_are_delivered_at_exit(
    kafka: Cluster, tmp_path: Path, kind: str
) -> None:
    topo = topology("exit")
    create_main_topics(kafka, topo)
    env = {
        **os.environ,
        "FD_TEST_CONFIG": json.dumps(kafka.config),
        "FD_TEST_TOPOLOGY": str(write_topology(topo, tmp_path / "topology.yaml")),
        "FD_TEST_EVENTS": str(EVENTS),
    }
    done = subprocess.run(
        [sys.executable, "-c", PRELUDE + SCRIPTS[kind]],
        cwd=REPO,
        env=env,
        capture_output=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr.decode()[-2000:]

    topic = topo.main_topic_for(QueueType.OPERATIONAL, "acme")
    received = kafka.drain(topic, expected=EVENTS, timeout=60)
    ids = {str(decode(m.value()).meta.event_id) for m in received}
    assert len(received) == EVENTS
    assert len(ids) == EVENTS
