"""Shared by the worker scenarios: a throwaway topology on the real broker, a worker run
in the test's event loop, and waiting for conditions without fixed sleeps."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from confluent_kafka import KafkaException, Message

from frontdesk import headers
from frontdesk.admin.topics import apply_topics, plan_topics
from frontdesk.topology import Topology
from frontdesk.topology.model import parse_topology
from frontdesk.worker import App, Worker, WorkerConfig
from tests.support import dlq as dlq_support
from tests.support.kafka import Cluster, unique

TOPOLOGY = """
cluster: {{namespace: {ns}}}
queues:
  operational: {{partitions: {partitions}, retry: {{tiers: [{tiers}], retention: 1h}}}}
  automation: {{partitions: 1, retry: {{tiers: [1s], retention: 1h}}}}
  sync: {{partitions: 1, retry: {{tiers: [1s], retention: 1h}}}}
  fallback: {{partitions: 1, retry: {{tiers: [1s], retention: 1h}}}}
tenants: [{tenants}]
"""

FAST = WorkerConfig(
    commit_interval=0.2,
    session_timeout_ms=6000,
    metadata_refresh_ms=2000,
    revoke_timeout=5,
    shutdown_timeout=10,
    transaction_timeout=10,
    # members notice a rebalance within half a second instead of three
    consumer_overrides={"heartbeat.interval.ms": 500},
)
"""Short intervals: the scenarios finish in seconds instead of minutes."""


def make_topology(
    kafka: Cluster,
    *,
    partitions: int = 2,
    tiers: str = "1s, 2s",
    dedicated: tuple[str, ...] = (),
    apply: bool = True,
    replication_factor: int = 1,
) -> Topology:
    """A topology in a fresh namespace with the operational queue's topics created."""
    tenants = ", ".join(f"{{id: {t}, mode: dedicated}}" for t in dedicated)
    ns = unique("wk")
    text = TOPOLOGY.format(ns=ns, partitions=partitions, tiers=tiers, tenants=tenants)
    text = text.replace(
        f"{{namespace: {ns}}}", f"{{namespace: {ns}, replication_factor: {replication_factor}}}"
    )
    topology = parse_topology(text)
    if apply:
        apply_operational(kafka, topology)
    return topology


def apply_operational(kafka: Cluster, topology: Topology) -> None:
    plan = plan_topics(kafka.admin, topology)
    plan.changes = [c for c in plan.changes if ".operational" in c.describe()]
    apply_topics(kafka.admin, plan)


def write_topology(topology: Topology, path: Path) -> Path:
    """The topology as a YAML file, for a worker subprocess (``FRONTDESK_TOPOLOGY``)."""
    return dlq_support.write_topology(topology, path)


@asynccontextmanager
async def running(
    app: App, kafka: Cluster, topology: Topology, config: WorkerConfig = FAST, **kwargs: Any
) -> AsyncIterator[Worker]:
    """Run a worker in this event loop; stop it (drain + commit) when the block ends."""
    worker = Worker(app, topology=topology, config=config, client_config=kafka.config, **kwargs)
    task = asyncio.create_task(worker.run())
    try:
        await wait_assigned(worker, task)
        yield worker
    finally:
        worker.stop()
        await asyncio.wait_for(task, 60)


async def wait_assigned(worker: Worker, task: asyncio.Task[None], timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while not worker.stats()["assigned"]:
        if task.done():
            task.result()
        if time.monotonic() > deadline:
            raise TimeoutError("worker got no partitions")
        await asyncio.sleep(0.05)


async def eventually(
    check: Callable[[], bool], timeout: float = 30, message: str = "condition"
) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {message}")
        await asyncio.sleep(0.05)


async def scrape_until(
    port: int, done: Callable[[str], bool], timeout: float = 40, message: str = "metrics"
) -> str:
    """Scrape ``/metrics`` on ``port`` until ``done(text)``; the last text."""
    from tests.support.http import scrape

    text = ""

    def check() -> bool:
        nonlocal text
        text = scrape(port)
        return done(text)

    await eventually(check, timeout, message)
    return text


def read_committed(
    kafka: Cluster, topic: str, expected: int | None, timeout: float = 20
) -> list[Message]:
    """Everything committed to ``topic`` (aborted hand-offs are invisible)."""
    return kafka.drain(topic, expected=expected, timeout=timeout) if expected != 0 else []


def drain_all(kafka: Cluster, topic: str, idle: float = 2.0) -> list[Message]:
    """Read ``topic`` with read_committed until it has been idle for ``idle`` seconds."""
    consumer = kafka.consumer(**{"isolation.level": "read_committed"})
    consumer.subscribe([topic])
    out: list[Message] = []
    try:
        deadline = time.monotonic() + 30
        while not consumer.assignment() and time.monotonic() < deadline:
            consumer.poll(0.1)
        last = time.monotonic()
        while time.monotonic() - last < idle:
            msg = consumer.poll(0.2)
            if msg is None:
                continue
            if msg.error():
                raise KafkaException(msg.error())
            out.append(msg)
            last = time.monotonic()
    finally:
        consumer.close()
    return out


def header(msg: Message, name: str) -> str | None:
    return headers.get(msg.headers(), name)


REPO = Path(__file__).resolve().parents[3]


def sample_group(topology: Topology) -> str:
    """The consumer group of `tests.support.apps.app` (what `WorkerProcess` runs)."""
    from tests.support.apps import app

    return app.group_id(topology.namespace, None)


async def settled(kafka: Cluster, group: str, *topics: str, timeout: float = 60) -> None:
    """Wait until ``group`` committed every partition of ``topics`` to its end."""
    await eventually(
        lambda: all(kafka.committed(group, t) == kafka.end_offsets(t) for t in topics),
        timeout=timeout,
        message=f"offsets of {', '.join(topics)} committed to the end",
    )


class WorkerProcess:
    """``python -m frontdesk.worker tests.support.apps:app`` (or ``target``) as a subprocess,
    output to a file."""

    def __init__(
        self,
        kafka: Cluster,
        topology: Topology,
        tmp: Path,
        *args: str,
        env: dict[str, str] | None = None,
        target: str = "tests.support.apps:app",
    ) -> None:
        import os
        import subprocess
        import sys

        self.db = tmp / "attempts.sqlite3"
        self.log = tmp / "worker.log"
        full_env = {
            **os.environ,
            **kafka.env(),
            "FRONTDESK_TOPOLOGY": str(write_topology(topology, tmp / "topology.yaml")),
            "FRONTDESK_HOME": str(tmp / "home"),
            "FD_TEST_DB": str(self.db),
            **(env or {}),
        }
        self._out = self.log.open("wb")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "frontdesk.worker", target, *args],
            cwd=REPO,
            env=full_env,
            stdout=self._out,
            stderr=subprocess.STDOUT,
        )

    def rows(self, sql: str, *params: object) -> list[tuple[Any, ...]]:
        import sqlite3

        if not self.db.exists():
            return []
        with sqlite3.connect(self.db, timeout=30) as conn:
            try:
                return list(conn.execute(sql, params))
            except sqlite3.OperationalError:
                return []  # table not created yet

    def ok_ids(self) -> set[str]:
        return {r[0] for r in self.rows("SELECT event_id FROM attempts WHERE outcome = 'ok'")}

    def ok_ids_by_booking(self) -> set[str]:
        """Booking ids (what the tests steer the sample app with) handled successfully."""
        return {r[0] for r in self.rows("SELECT booking_id FROM attempts WHERE outcome = 'ok'")}

    def stop(self, timeout: float = 60) -> int:
        import signal

        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(timeout)
        finally:
            self._out.close()

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()
        self._out.close()

    def output(self) -> str:
        return self.log.read_text(errors="replace")
