"""Worker subprocesses for the reliability scenarios, and waiting without fixed sleeps.

`Supervised` runs ``frontdesk worker tests.reliability.app:app --processes N`` (the product's
supervisor, which restarts a dead slot); `Single` runs one worker process with its own
``--worker-id`` (for scaling the group by hand). Both log to a file in the test's tmp dir
and point the app at the scenario's journal, topology and cluster.
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

from confluent_kafka import KafkaError, KafkaException

from frontdesk.broker import LocalBroker
from frontdesk.topology import Topology
from tests.integration.worker.harness import REPO, write_topology
from tests.reliability import journal
from tests.support.kafka import Cluster

APP = "tests.reliability.app:app"


def _cli() -> list[str]:
    """The ``frontdesk`` command of this interpreter's environment."""
    script = Path(sys.executable).with_name("frontdesk")
    if script.exists():
        return [str(script)]
    return [sys.executable, "-c", "from frontdesk.cli.main import app; app()"]


class Scenario:
    """A scenario's files: journal, topology, logs; and the environment of its workers."""

    def __init__(self, cluster: Cluster, topology: Topology, tmp: Path, **env: str) -> None:
        self.cluster = cluster
        self.topology = topology
        self.tmp = tmp
        self.db = journal.create(tmp / "journal.sqlite3")
        self.main = f"{topology.namespace}.pms.operational"
        self.group = f"{topology.namespace}.frontdesk.reliability"
        self.env = {
            **os.environ,
            **cluster.env(),
            "FRONTDESK_TOPOLOGY": str(write_topology(topology, tmp / "topology.yaml")),
            "FRONTDESK_HOME": str(tmp / "home"),
            "FD_REL_DB": str(self.db),
            # a worker killed with SIGABRT (a hung one, see Supervised.abort_children)
            # writes every thread's stack to its log
            "PYTHONFAULTHANDLER": "1",
            **env,
        }
        self._logs = 0

    def log_file(self, name: str) -> Path:
        self._logs += 1
        return self.tmp / f"{self._logs:02d}-{name}.log"

    def rows(self, sql: str, *params: object) -> list[tuple[object, ...]]:
        return journal.read(self.db, sql, *params)

    def handled(self) -> int:
        """Distinct events handled successfully so far."""
        row = self.rows("SELECT COUNT(DISTINCT event_id) FROM attempts WHERE outcome = 'ok'")
        return int(str(row[0][0])) if row else 0


class _Process:
    def __init__(self, scenario: Scenario, name: str, args: list[str]) -> None:
        self.log = scenario.log_file(name)
        self._out = self.log.open("wb")
        self.process = subprocess.Popen(
            args, cwd=REPO, env=scenario.env, stdout=self._out, stderr=subprocess.STDOUT
        )

    @property
    def pid(self) -> int:
        return self.process.pid

    def alive(self) -> bool:
        return self.process.poll() is None

    def stop(self, timeout: float = 60) -> int:
        """SIGTERM (drain and commit) and wait; SIGKILL past ``timeout``."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
            raise
        finally:
            self._out.close()

    def output(self, tail: int = 4000) -> str:
        return self.log.read_text(errors="replace")[-tail:]


class Supervised(_Process):
    """The supervisor (``--processes N``) and its worker children."""

    def __init__(self, scenario: Scenario, processes: int, *args: str) -> None:
        cmd = [*_cli(), "worker", APP, "--processes", str(processes), *args]
        super().__init__(scenario, f"supervisor-{processes}", cmd)
        self.processes = processes

    def children(self) -> list[int]:
        """The worker processes the supervisor runs now (direct children, alive)."""
        path = Path(f"/proc/{self.pid}/task/{self.pid}/children")
        try:
            pids = [int(p) for p in path.read_text().split()]
        except OSError:
            return []
        return [p for p in pids if _running(p)]

    def wait_children(self, count: int, timeout: float = 30) -> list[int]:
        wait_for(lambda: len(self.children()) >= count, timeout, f"{count} worker processes")
        return self.children()

    def wait_ready(self, count: int, timeout: float = 60) -> float:
        """Until ``count`` worker processes have said "ready" (they own partitions)."""
        pattern = re.compile(r"frontdesk\.worker: worker \S+ ready")
        return wait_for(
            lambda: len(pattern.findall(self.output(tail=10**8))) >= count,
            timeout,
            f"{count} workers ready",
        )

    def stop_or_abort(self, grace: float = 15, timeout: float = 30) -> int:
        """SIGTERM; if the workers have not all stopped within ``grace`` seconds (one is
        hung), SIGABRT them, which writes their stacks to the log (see `abort`)."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(grace)
        except subprocess.TimeoutExpired:
            for pid in self.children():
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGABRT)
        return self.stop(timeout)

    def abort(self, timeout: float = 30) -> int:
        """Stop at once, for a scenario that failed with workers that may hang: SIGTERM
        the supervisor (so it restarts nothing), then SIGABRT every worker process. The
        workers run with ``PYTHONFAULTHANDLER``, so each log ends with the stack of every
        thread (where it hung), and nobody waits out the supervisor's grace period."""
        victims = self.children()
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        time.sleep(0.5)  # the supervisor is stopping: it restarts no slot from now on
        for pid in victims:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGABRT)
        return self.stop(timeout)


class Single(_Process):
    """One worker process with a stable id (a pod of a scaled deployment)."""

    def __init__(self, scenario: Scenario, worker_id: str, *args: str) -> None:
        cmd = [sys.executable, "-m", "frontdesk.worker", APP, "--worker-id", worker_id, *args]
        super().__init__(scenario, worker_id, cmd)
        self.worker_id = worker_id


def _running(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def wait_for(check: Callable[[], bool], timeout: float, what: str, every: float = 0.1) -> float:
    """Poll ``check`` until true; the seconds it took. Fails naming ``what``."""
    began = time.monotonic()
    while not check():
        if time.monotonic() - began > timeout:
            raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what}")
        time.sleep(every)
    return time.monotonic() - began


def wait_settled(count: Callable[[], int], target: int, quiet: float, timeout: float) -> int:
    """Poll ``count`` until it reaches ``target``, stops growing for ``quiet`` seconds, or
    ``timeout`` passes; its last value. For a scenario that must *measure* a shortfall
    (events that never come) rather than only time out on it."""
    began = last_change = time.monotonic()
    value = count()
    while value < target and time.monotonic() - began < timeout:
        time.sleep(0.5)
        now = count()
        if now != value:
            value, last_change = now, time.monotonic()
        elif time.monotonic() - last_change > quiet:
            break
    return value


def cluster_of(broker: LocalBroker) -> Cluster:
    """The `Cluster` handle of a running `LocalBroker` (a scenario's own broker)."""
    state = broker.status()
    assert state is not None, "the broker is not running"
    return Cluster(state.client_config(), origin=f"own local {state.version}")


def committed_to_end(cluster: Cluster, group: str, topics: list[str]) -> bool:
    """The group's committed offsets equal the end of every partition of ``topics``; not
    yet while they cannot be read (still pending in a transaction: a timed-out read)."""
    try:
        return all(cluster.committed(group, t) == cluster.end_offsets(t) for t in topics)
    except KafkaException as exc:
        if exc.args[0].code() != KafkaError._TIMED_OUT:
            raise
        return False


__all__ = [
    "APP",
    "Scenario",
    "Single",
    "Supervised",
    "cluster_of",
    "committed_to_end",
    "wait_for",
    "wait_settled",
]
