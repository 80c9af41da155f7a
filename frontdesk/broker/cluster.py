"""Run a real multi-node Kafka cluster (KRaft) on one machine, for the demo and the tests.

Every node is a combined broker+controller from the same Maven jars as the single broker
(`frontdesk.broker.local`), with its own data dir (``<data-dir>/node-<id>``), its own
ports on 127.0.0.1 and a small heap; the controllers form a static quorum of all nodes,
formatted once with one cluster id. ``<data-dir>/cluster.json`` records the formatted
cluster (id, mode, every node's ports), ``node-<id>/node.json`` each running node.

A node is started, stopped and SIGKILLed on its own (`ClusterNode`), which is what the
reliability scenarios do to it; the cluster as a whole starts all nodes at once, since
no node is ready before a majority of controllers is up.
"""

from __future__ import annotations

import contextlib
import json
import os
import random
import secrets
import signal
import socket
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from confluent_kafka.admin import AdminClient

from frontdesk.broker import config, jars
from frontdesk.broker.errors import BrokerDiedError, BrokerError
from frontdesk.broker.local import (
    DEFAULT_PORT,
    BrokerState,
    LocalBroker,
    _tail,
)
from frontdesk.broker.ports import ensure_free

DEFAULT_NODES = 3
NODE_HEAP = ["-Xms128m", "-Xmx320m"]
"""Per node, after the single broker's options (the JVM keeps the last -Xms/-Xmx): three
nodes must fit beside the tests on a small machine."""


@dataclass(frozen=True, slots=True)
class ClusterState:
    """The cluster's running nodes and how clients reach them."""

    nodes: dict[int, BrokerState]
    """The running nodes by node id."""
    ports: list[int]
    version: str
    secure: bool
    data_dir: str
    admin_user: str | None = None
    admin_password: str | None = None

    @property
    def bootstrap_servers(self) -> str:
        return ",".join(f"127.0.0.1:{port}" for port in self.ports)

    def client_config(self) -> dict[str, Any]:
        """librdkafka settings for an admin client of this cluster (every node listed):
        a single broker's, with every node as a bootstrap server."""
        node = BrokerState(
            pid=0,
            port=self.ports[0],
            version=self.version,
            origin="cluster",
            secure=self.secure,
            data_dir=self.data_dir,
            started_at=0.0,
            admin_user=self.admin_user,
            admin_password=self.admin_password,
        )
        return {**node.client_config(), "bootstrap.servers": self.bootstrap_servers}


PORT_RANGE = (20_000, 32_000)
"""Where free ports are chosen: below Linux's ephemeral range (32768-60999). A node binds
its client listener only once it has joined the quorum, seconds after its peers started
opening connections, and each of those takes an ephemeral local port that could be the
one chosen for it."""


def _quiet_port(taken: set[int]) -> int:
    """A free loopback port in `PORT_RANGE` that no other node of the cluster uses."""
    rng = random.SystemRandom()
    for _ in range(200):
        port = rng.randrange(*PORT_RANGE)
        if port in taken:
            continue
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
        taken.add(port)
        return port
    raise BrokerError(f"no free port in {PORT_RANGE[0]}-{PORT_RANGE[1]} on 127.0.0.1")


class ClusterNode:
    """One node of a `LocalCluster`: start, stop (SIGTERM) or kill (SIGKILL) it alone.

    A node's directory is a `LocalBroker`'s (``broker.json``, ``logs/``), so status, stop,
    kill and the log paths are the single broker's; only its properties and its start
    (no node is ready without a controller majority) differ."""

    def __init__(self, cluster: LocalCluster, node_id: int) -> None:
        self.cluster = cluster
        self.node_id = node_id
        self.data_dir = cluster.data_dir / f"node-{node_id}"
        self.broker = LocalBroker(
            self.data_dir,
            port=self.ports().client if cluster.cluster_file.exists() else 0,
            secure=cluster.secure,
            cache_dir=cluster.cache_dir,
            version=cluster.version,
        )

    @property
    def server_log(self) -> Path:
        return self.broker.server_log

    @property
    def properties(self) -> Path:
        return self.data_dir / "server.properties"

    def status(self) -> BrokerState | None:
        """This node if it runs, else ``None``."""
        return self.broker.status()

    @property
    def pid(self) -> int | None:
        state = self.status()
        return None if state is None else state.pid

    def ports(self) -> config.Ports:
        return self.cluster.node_ports(self.node_id)

    def render(self, layout: dict[str, Any]) -> str:
        controllers = {int(i): int(p["controller"]) for i, p in layout["nodes"].items()}
        return config.render_node(
            self.ports(),
            self.data_dir / "kraft",
            secure=bool(layout["secure"]),
            node_id=self.node_id,
            controllers=controllers,
            admin_password=layout.get("admin_password"),
        )

    def launch(self, dist: jars.Distribution) -> tuple[subprocess.Popen[bytes], BrokerState]:
        """Start the node's JVM and return at once (`wait_ready` waits for it)."""
        ports = self.ports()
        ensure_free(ports.client, f"node {self.node_id} client listener")
        ensure_free(ports.controller, f"node {self.node_id} controller listener")
        if ports.internal is not None:
            ensure_free(ports.internal, f"node {self.node_id} internal listener")
        layout = self.cluster.layout()
        return self.broker.launch(
            dist, self.render(layout), layout.get("admin_password"), NODE_HEAP
        )

    def ready(self, state: BrokerState) -> bool:
        """The node answers metadata and lists itself among the unfenced brokers."""
        try:
            # Probe the port first: librdkafka logs every refused connection.
            with socket.create_connection(("127.0.0.1", state.port), timeout=0.5):
                pass
        except OSError:
            return False
        try:
            admin = AdminClient({**state.client_config(), "log_level": 3})
            brokers = admin.list_topics(timeout=2).brokers
        except Exception:
            return False
        return self.node_id in brokers

    def wait_ready(self, proc: subprocess.Popen[bytes], state: BrokerState, timeout: float) -> None:
        """Race "the node is ready" against "its process exited" until ``timeout``; then
        record it as running."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                raise BrokerDiedError(
                    f"node {self.node_id} exited with code {proc.returncode} while starting.\n"
                    f"--- {self.server_log} (tail) ---\n{_tail(self.server_log)}\n"
                    f"--- {self.broker.stdout_log} (tail) ---\n"
                    f"{_tail(self.broker.stdout_log, 15)}"
                )
            if self.ready(state):
                self.broker.save_state(state)
                return
            time.sleep(0.3)
        raise BrokerError(
            f"node {self.node_id} did not answer within {timeout:.0f}s.\n"
            f"--- {self.server_log} (tail) ---\n{_tail(self.server_log)}"
        )

    def start(self, timeout: float = 90.0) -> BrokerState:
        """Start this node alone (the others keep running) and wait until it is back."""
        running = self.status()
        if running is not None:
            return running
        proc, state = self.launch(self.cluster.distribution())
        try:
            self.wait_ready(proc, state, timeout)
        except BaseException:
            LocalBroker._kill(proc.pid, 0)
            raise
        return state

    def stop(self, timeout: float = 30.0) -> bool:
        """SIGTERM (a controlled shutdown: leadership moves first), then SIGKILL."""
        return self.broker.stop(timeout)

    def kill(self) -> None:
        """SIGKILL at once: a crashed node, for fault-injection tests."""
        self.broker.kill()


class LocalCluster:
    """``nodes`` combined broker+controller nodes bound to one data directory.

    Node ``i`` (1-based) listens for clients on ``port + i - 1``; ``port=0`` picks free
    ports when the cluster is formatted (what the tests do). Ports are kept in
    ``cluster.json``, so a restart finds the cluster where it was.
    """

    def __init__(
        self,
        data_dir: Path,
        *,
        nodes: int = DEFAULT_NODES,
        port: int = DEFAULT_PORT,
        secure: bool = False,
        cache_dir: Path | None = None,
        version: str = jars.DEFAULT_KAFKA_VERSION,
        admin_password: str | None = None,
    ) -> None:
        if nodes < 1:
            raise BrokerError(f"a cluster needs at least one node, got {nodes}")
        self.data_dir = data_dir.expanduser().resolve()
        self.size = nodes
        self.port = port
        self.secure = secure
        self.cache_dir = (cache_dir or Path.home() / ".cache" / "frontdesk").expanduser()
        self.version = version
        self.admin_password = admin_password
        self._dist: jars.Distribution | None = None

    @property
    def cluster_file(self) -> Path:
        return self.data_dir / "cluster.json"

    def node_ids(self) -> list[int]:
        if self.cluster_file.exists():
            return sorted(int(i) for i in self.layout()["nodes"])
        return list(range(1, self.size + 1))

    def node(self, node_id: int) -> ClusterNode:
        if node_id not in self.node_ids():
            raise BrokerError(f"no node {node_id}; this cluster has nodes {self.node_ids()}")
        return ClusterNode(self, node_id)

    @property
    def nodes(self) -> list[ClusterNode]:
        return [ClusterNode(self, i) for i in self.node_ids()]

    def layout(self) -> dict[str, Any]:
        """What was formatted: cluster id, mode, each node's ports (``cluster.json``)."""
        layout: dict[str, Any] = json.loads(self.cluster_file.read_text())
        return layout

    def node_ports(self, node_id: int) -> config.Ports:
        ports = self.layout()["nodes"][str(node_id)]
        return config.Ports(ports["client"], ports["controller"], ports.get("internal"))

    def distribution(self) -> jars.Distribution:
        if self._dist is None:
            jars.require_tool("java", "run the Kafka cluster")
            self._dist = jars.resolve(self.cache_dir, self.version)
        return self._dist

    def client_config(self) -> dict[str, Any]:
        return self._state({}).client_config()

    def _state(self, running: dict[int, BrokerState]) -> ClusterState:
        layout = self.layout()
        every = [int(p["client"]) for _, p in sorted(layout["nodes"].items())]
        return ClusterState(
            nodes=running,
            ports=every,
            version=str(layout["version"]),
            secure=bool(layout["secure"]),
            data_dir=str(self.data_dir),
            admin_user=config.ADMIN_USER if layout["secure"] else None,
            admin_password=layout.get("admin_password"),
        )

    # -- status --------------------------------------------------------------------------
    def status(self) -> ClusterState | None:
        """The running nodes, or ``None`` when none runs."""
        if not self.cluster_file.exists():
            return None
        running = {node.node_id: s for node in self.nodes if (s := node.status()) is not None}
        return self._state(running) if running else None

    # -- start ---------------------------------------------------------------------------
    def start(
        self, timeout: float = 120.0, on_progress: Callable[[str], None] | None = None
    ) -> ClusterState:
        """Download (once), format (once) and start every node; return when all answer."""
        say = on_progress or (lambda _msg: None)
        say("resolving Kafka jars")
        dist = self.distribution()
        layout = self._format(dist, say)
        if layout["secure"] != self.secure:
            mode = "secure" if layout["secure"] else "plain"
            raise BrokerError(
                f"{self.data_dir} was formatted in {mode} mode; use another --data-dir to "
                f"switch modes"
            )
        started: list[tuple[ClusterNode, subprocess.Popen[bytes], BrokerState]] = []
        try:
            for node in self.nodes:
                if node.status() is None:
                    say(f"starting node {node.node_id} on 127.0.0.1:{node.ports().client}")
                    started.append((node, *node.launch(dist)))
            deadline = time.monotonic() + timeout
            for node, proc, state in started:
                say(f"waiting for node {node.node_id}")
                node.wait_ready(proc, state, max(1.0, deadline - time.monotonic()))
        except BaseException:
            for _, proc, _ in started:
                LocalBroker._kill(proc.pid, 0)
            raise
        running = self.status()
        assert running is not None
        return running

    def _format(self, dist: jars.Distribution, say: Callable[[str], None]) -> dict[str, Any]:
        """Format every node's storage with one cluster id, on first use only."""
        if self.cluster_file.exists():
            return self.layout()
        say(f"formatting {self.size} nodes")
        self.data_dir.mkdir(parents=True, exist_ok=True)
        nodes: dict[str, dict[str, int | None]] = {}
        taken = set() if self.port == 0 else {self.port + i for i in range(self.size)}
        for i in range(1, self.size + 1):
            client = _quiet_port(taken) if self.port == 0 else self.port + i - 1
            nodes[str(i)] = {
                "client": client,
                "controller": _quiet_port(taken),
                "internal": _quiet_port(taken) if self.secure else None,
            }
        layout: dict[str, Any] = {
            "cluster_id": LocalBroker.new_cluster_id(),
            "secure": self.secure,
            "version": dist.version,
            "nodes": nodes,
        }
        if self.secure:
            layout["admin_password"] = self.admin_password or secrets.token_hex(16)
        # Written first: the nodes render their properties from it.
        self.cluster_file.write_text(json.dumps(layout, indent=2))
        self.cluster_file.chmod(0o600)
        try:
            for node in self.nodes:
                node.data_dir.mkdir(parents=True, exist_ok=True)
                node.broker.write_properties(node.render(layout))
                LocalBroker.format_storage(
                    dist, layout["cluster_id"], node.properties, layout.get("admin_password")
                )
        except BaseException:
            self.cluster_file.unlink(missing_ok=True)
            raise
        return layout

    # -- stop ----------------------------------------------------------------------------
    def stop(self, timeout: float = 30.0) -> int:
        """Stop every running node (SIGTERM, then SIGKILL); how many were running."""
        running = [(node, s) for node in self.nodes if (s := node.status()) is not None]
        # All at once: a node stopped last would otherwise wait for a controller quorum
        # that its peers, already gone, can no longer form.
        for _, state in running:
            with contextlib.suppress(ProcessLookupError):
                os.kill(state.pid, signal.SIGTERM)
        for node, _ in running:
            node.stop(timeout)
        return len(running)


__all__ = ["DEFAULT_NODES", "ClusterNode", "ClusterState", "LocalCluster"]
