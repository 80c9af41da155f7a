"""Run a real single-node Kafka broker (KRaft) with ``java``, for the demo and the tests.

The broker is a detached process so it outlives the ``frontdesk broker start`` command;
``<data-dir>/broker.json`` records what is running, and ``<data-dir>/cluster.json`` what
was formatted (cluster id, mode, controller port), so stop/start keeps its data.
"""

from __future__ import annotations

import base64
import json
import os
import secrets
import signal
import socket
import subprocess
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from confluent_kafka.admin import AdminClient

from frontdesk.broker import config, jars
from frontdesk.broker.errors import BrokerDiedError, BrokerError
from frontdesk.broker.ports import ensure_free

DEFAULT_PORT = 9092
_JVM_OPTS = [
    # Enough for tests and the demo; the broker's own default (1 GiB) wastes a small machine.
    "-Xms256m",
    "-Xmx512m",
    # One small heap: the serial collector has the least overhead on 2 cores.
    "-XX:+UseSerialGC",
    "-Djava.awt.headless=true",
]


# Brokers this process started, by pid. They are detached on purpose, so their Popen
# objects are kept here: dropping one while the broker runs would warn, and reaping it
# when it stops must remain possible from any LocalBroker instance.
_CHILDREN: dict[int, subprocess.Popen[bytes]] = {}


@dataclass(frozen=True, slots=True)
class BrokerState:
    """A running local broker, as recorded in ``broker.json``."""

    pid: int
    port: int
    version: str
    origin: str
    secure: bool
    data_dir: str
    started_at: float
    admin_user: str | None = None
    admin_password: str | None = None

    @property
    def bootstrap_servers(self) -> str:
        return f"127.0.0.1:{self.port}"

    def client_config(self) -> dict[str, Any]:
        """librdkafka settings for an admin client of this broker."""
        conf: dict[str, Any] = {"bootstrap.servers": self.bootstrap_servers}
        if self.secure:
            conf.update(
                {
                    "security.protocol": "SASL_PLAINTEXT",
                    "sasl.mechanism": "SCRAM-SHA-512",
                    "sasl.username": self.admin_user,
                    "sasl.password": self.admin_password,
                }
            )
        return conf


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _alive(pid: int) -> bool:
    """True while ``pid`` runs (a zombie counts as gone)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def _is_our_broker(pid: int, data_dir: Path) -> bool:
    """Guard against a recycled pid before signalling it."""
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return False
    return b"kafka.Kafka" in cmdline and str(data_dir).encode() in b" ".join(cmdline)


def _kafka_using(data_dir: Path) -> int | None:
    """The pid of a running Kafka broker whose command line names ``data_dir``, if any."""
    properties = str(data_dir / "server.properties").encode()
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            args = (proc / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if b"kafka.Kafka" in args and properties in args and _alive(int(proc.name)):
            return int(proc.name)
    return None


def _tail(path: Path, lines: int = 30) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log written)"


class LocalBroker:
    """One embedded broker bound to a data directory."""

    def __init__(
        self,
        data_dir: Path,
        *,
        port: int = DEFAULT_PORT,
        secure: bool = False,
        cache_dir: Path | None = None,
        version: str = jars.DEFAULT_KAFKA_VERSION,
        admin_password: str | None = None,
    ) -> None:
        self.data_dir = data_dir.expanduser().resolve()
        self.port = port
        self.secure = secure
        self.cache_dir = (cache_dir or Path.home() / ".cache" / "frontdesk").expanduser()
        self.version = version
        self.admin_password = admin_password

    # -- paths ---------------------------------------------------------------------------
    @property
    def state_file(self) -> Path:
        return self.data_dir / "broker.json"

    @property
    def cluster_file(self) -> Path:
        return self.data_dir / "cluster.json"

    @property
    def log_dir(self) -> Path:
        return self.data_dir / "logs"

    @property
    def server_log(self) -> Path:
        return self.log_dir / "server.log"

    @property
    def stdout_log(self) -> Path:
        return self.log_dir / "stdout.log"

    # -- status --------------------------------------------------------------------------
    def status(self) -> BrokerState | None:
        """The running broker of this data dir, or ``None`` (a stale state file is removed)."""
        try:
            state = BrokerState(**json.loads(self.state_file.read_text()))
        except (OSError, ValueError, TypeError):
            return None
        if _alive(state.pid) and _is_our_broker(state.pid, self.data_dir):
            return state
        self.state_file.unlink(missing_ok=True)
        return None

    # -- start ---------------------------------------------------------------------------
    def start(
        self,
        timeout: float = 90.0,
        on_progress: Callable[[str], None] | None = None,
    ) -> BrokerState:
        """Download (once), format (once) and start the broker; return when it answers."""
        say = on_progress or (lambda _msg: None)
        running = self.status()
        if running is not None:
            if running.port != self.port:
                raise BrokerError(
                    f"{self.data_dir} is already used by the broker with pid {running.pid} "
                    f"on port {running.port}; stop it first (`frontdesk broker stop --port "
                    f"{running.port}`), or give this broker another --data-dir"
                )
            say(f"already running (pid {running.pid})")
            return running
        owner = _kafka_using(self.data_dir)
        if owner is not None:
            raise BrokerError(
                f"{self.data_dir} is already used by a Kafka broker with pid {owner} that "
                f"was not started from this data dir's state (its broker.json is gone); stop "
                f"it (kill {owner}), or give this broker another --data-dir"
            )
        jars.require_tool("java", "run the Kafka broker")
        say("resolving Kafka jars")
        dist = jars.resolve(self.cache_dir, self.version)
        cluster = self._format(dist, say)
        if cluster["secure"] != self.secure:
            mode = "secure" if cluster["secure"] else "plain"
            raise BrokerError(
                f"{self.data_dir} was formatted in {mode} mode; use another --data-dir to "
                f"switch modes"
            )
        ports = config.Ports(
            client=self.port,
            controller=int(cluster["controller_port"]),
            internal=cluster.get("internal_port"),
        )
        ensure_free(ports.client, "client listener")
        fixed = f"use another --data-dir (this port was chosen when {self.data_dir} was formatted)"
        ensure_free(ports.controller, "controller listener", remedy=fixed)
        if ports.internal is not None:
            ensure_free(ports.internal, "internal listener", remedy=fixed)
        say(f"starting Kafka {dist.version} on 127.0.0.1:{self.port}")
        password = cluster.get("admin_password")
        text = config.render(
            ports, self.data_dir / "kraft", secure=self.secure, admin_password=password
        )
        proc, state = self.launch(dist, text, password)
        try:
            self._wait_ready(proc, state, timeout)
        except BaseException:
            self._kill(proc.pid)
            raise
        self.save_state(state)
        return state

    def launch(
        self,
        dist: jars.Distribution,
        properties_text: str,
        admin_password: str | None,
        jvm_options: Sequence[str] = (),
    ) -> tuple[subprocess.Popen[bytes], BrokerState]:
        """Write ``server.properties`` and the log config, start the JVM and return at once
        (the caller waits for readiness, then `save_state`). ``jvm_options`` come last, so
        they override the defaults (the JVM keeps the last -Xmx)."""
        properties = self.write_properties(properties_text)
        self.log_dir.mkdir(parents=True, exist_ok=True)
        log4j = self.data_dir / "log4j2.properties"
        log4j.write_bytes(
            resources.files("frontdesk.broker").joinpath("log4j2.properties").read_bytes()
        )
        cmd = [
            "java",
            *_JVM_OPTS,
            *jvm_options,
            f"-Dlog4j2.configurationFile={log4j}",
            f"-Dkafka.logs.dir={self.log_dir}",
            "-cp",
            dist.classpath,
            "kafka.Kafka",
            str(properties),
        ]
        with self.stdout_log.open("ab") as out:
            # Own session: the broker outlives the CLI command that started it.
            proc = subprocess.Popen(
                cmd, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
            )
        _CHILDREN[proc.pid] = proc
        state = BrokerState(
            pid=proc.pid,
            port=self.port,
            version=dist.version,
            origin=dist.origin,
            secure=self.secure,
            data_dir=str(self.data_dir),
            started_at=time.time(),
            admin_user=config.ADMIN_USER if self.secure else None,
            admin_password=admin_password,
        )
        return proc, state

    def save_state(self, state: BrokerState) -> None:
        """Record a broker that answers (what `status` reads)."""
        self.state_file.write_text(json.dumps(asdict(state), indent=2))
        self.state_file.chmod(0o600)

    def write_properties(self, text: str) -> Path:
        """Write ``server.properties``; 0600, since in secure mode it holds the node's secret."""
        properties = self.data_dir / "server.properties"
        properties.touch(mode=0o600)
        properties.chmod(0o600)
        properties.write_text(text)
        return properties

    def _format(self, dist: jars.Distribution, say: Callable[[str], None]) -> dict[str, Any]:
        """Format KRaft storage on first use; later starts reuse it and keep the data."""
        if self.cluster_file.exists():
            cluster: dict[str, Any] = json.loads(self.cluster_file.read_text())
            return cluster
        say("formatting storage")
        self.data_dir.mkdir(parents=True, exist_ok=True)
        cluster_id = self.new_cluster_id()
        cluster = {
            "cluster_id": cluster_id,
            "secure": self.secure,
            "controller_port": _free_port(),
            "internal_port": _free_port() if self.secure else None,
            "version": dist.version,
        }
        if self.secure:
            cluster["admin_password"] = self.admin_password or secrets.token_hex(16)
        ports = config.Ports(self.port, cluster["controller_port"], cluster["internal_port"])
        password = cluster.get("admin_password")
        properties = self.write_properties(
            config.render(
                ports, self.data_dir / "kraft", secure=self.secure, admin_password=password
            )
        )
        self.format_storage(dist, cluster_id, properties, cluster.get("admin_password"))
        self.cluster_file.write_text(json.dumps(cluster, indent=2))
        self.cluster_file.chmod(0o600)
        return cluster

    @staticmethod
    def new_cluster_id() -> str:
        """URL-safe base64 of 16 random bytes, as ``kafka-storage random-uuid`` makes."""
        cluster_id = base64.urlsafe_b64encode(os.urandom(16)).decode().rstrip("=")
        if cluster_id.startswith("-"):  # the formatter would read it as an option
            cluster_id = "A" + cluster_id[1:]
        return cluster_id

    @staticmethod
    def format_storage(
        dist: jars.Distribution, cluster_id: str, properties: Path, admin_password: str | None
    ) -> None:
        """Format the log dirs ``properties`` names; with a password, the SCRAM admin user
        is created in the bootstrap metadata (secure mode)."""
        cmd = [
            "java", "-Xmx256m", "-cp", dist.classpath, "kafka.tools.StorageTool", "format",
            "-t", cluster_id, "-c", str(properties),
        ]  # fmt: skip
        if admin_password is not None:
            user = f"name={config.ADMIN_USER},password={admin_password}"
            cmd += ["--add-scram", f"SCRAM-SHA-512=[{user}]"]
        proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
        if proc.returncode != 0:
            raise BrokerError(f"formatting {properties.parent} failed:\n{proc.stdout}{proc.stderr}")

    def _wait_ready(
        self, proc: subprocess.Popen[bytes], state: BrokerState, timeout: float
    ) -> None:
        """Race "metadata answers" against "process exited" until ``timeout``."""
        deadline = time.monotonic() + timeout
        admin: AdminClient | None = None
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                raise BrokerDiedError(
                    f"the broker exited with code {proc.returncode} while starting.\n"
                    f"--- {self.server_log} (tail) ---\n{_tail(self.server_log)}\n"
                    f"--- {self.stdout_log} (tail) ---\n{_tail(self.stdout_log, 15)}"
                )
            try:
                with socket.create_connection(("127.0.0.1", state.port), timeout=0.5):
                    pass
            except OSError:
                time.sleep(0.2)
                continue
            if admin is None:
                # log_level 3: the client's connection-refused chatter is expected here.
                admin = AdminClient({**state.client_config(), "log_level": 3})
            try:
                admin.list_topics(timeout=2)
                return
            except Exception:
                time.sleep(0.2)
        raise BrokerError(
            f"the broker did not answer within {timeout:.0f}s.\n"
            f"--- {self.server_log} (tail) ---\n{_tail(self.server_log)}"
        )

    # -- stop ----------------------------------------------------------------------------
    def stop(self, timeout: float = 30.0) -> bool:
        """SIGTERM, wait up to ``timeout``, then SIGKILL. False when nothing was running."""
        state = self.status()
        if state is None:
            return False
        self._kill(state.pid, timeout)
        self.state_file.unlink(missing_ok=True)
        return True

    def kill(self) -> None:
        """SIGKILL at once: for fault-injection tests of a crashed broker."""
        state = self.status()
        if state is not None:
            self._kill(state.pid, 0)
            self.state_file.unlink(missing_ok=True)

    @staticmethod
    def _kill(pid: int, timeout: float = 30.0) -> None:
        if timeout > 0 and _alive(pid):
            os.kill(pid, signal.SIGTERM)
            deadline = time.monotonic() + timeout
            while time.monotonic() < deadline and _alive(pid):
                time.sleep(0.1)
        if _alive(pid):
            os.kill(pid, signal.SIGKILL)
            while _alive(pid):
                time.sleep(0.05)
        child = _CHILDREN.pop(pid, None)
        if child is not None:
            child.wait()  # reap the zombie
