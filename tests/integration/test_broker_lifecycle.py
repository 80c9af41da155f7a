"""The embedded broker: a plain client can use it, and stop/start keeps the data.

Contract: `LocalBroker.start` returns only when metadata answers; `stop` is graceful;
a restart on the same data dir serves the records written before it; a taken port, a data
dir another broker owns, or a broker that dies on start is reported with a specific error.
"""

from __future__ import annotations

import socket
from pathlib import Path

import pytest
from confluent_kafka.admin import AdminClient

from frontdesk.broker import BrokerDiedError, BrokerError, LocalBroker, PortInUseError
from tests.conftest import _free_port
from tests.support.cli import run_cli
from tests.support.kafka import Cluster, unique


def test_plain_client_creates_produces_and_consumes(kafka: Cluster) -> None:
    topic = kafka.create_topic(unique("plain"), partitions=2)
    kafka.produce(topic, [(f"k{i}", f"v{i}".encode()) for i in range(10)])
    values = sorted(m.value() for m in kafka.drain(topic, expected=10))
    assert values == sorted(f"v{i}".encode() for i in range(10))


def test_restart_keeps_data(tmp_path: Path) -> None:
    broker = LocalBroker(tmp_path / "data", port=_free_port())
    state = broker.start()
    try:
        assert broker.status() == state
        assert state.version.startswith("4.")
        cluster = Cluster(state.client_config(), origin="restart test")
        topic = cluster.create_topic("survives-restart", partitions=1)
        cluster.produce(topic, [(b"k", b"before stop")])
        assert broker.stop() is True
        assert broker.status() is None
        assert broker.stop() is False  # nothing left to stop

        restarted = broker.start()
        assert restarted.pid != state.pid
        cluster = Cluster(restarted.client_config(), origin="restart test")
        assert [m.value() for m in cluster.drain(topic, expected=1)] == [b"before stop"]
    finally:
        broker.stop()


def test_port_in_use_is_refused(tmp_path: Path) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        port = sock.getsockname()[1]
        with pytest.raises(PortInUseError, match=f"port {port}"):
            LocalBroker(tmp_path / "data", port=port).start()


def test_broker_dying_on_start_shows_its_log(tmp_path: Path) -> None:
    broker = LocalBroker(tmp_path / "data", port=_free_port())
    broker.start()
    broker.stop()
    # Unformatted storage: the JVM refuses to start ("have you run kafka-storage ...").
    (tmp_path / "data" / "kraft" / "meta.properties").unlink()
    with pytest.raises(BrokerDiedError, match=r"meta\.properties"):
        broker.start(timeout=60)
    assert broker.status() is None


def test_admin_sees_the_broker_as_one_node(kafka: Cluster) -> None:
    admin: AdminClient = kafka.admin
    cluster = admin.describe_cluster().result(timeout=10)
    assert len(cluster.nodes) == 1


def test_a_second_broker_on_the_same_data_dir_names_the_owner(tmp_path: Path) -> None:
    """Starting on another port with a data dir a running broker owns names that broker
    (pid, port); `broker stop --port` with the wrong port stops nothing, the right one
    stops it."""
    data = tmp_path / "data"
    first = LocalBroker(data, port=_free_port())
    state = first.start()
    try:
        other = _free_port()
        with pytest.raises(BrokerError) as caught:
            LocalBroker(data, port=other).start()
        message = str(caught.value)
        assert f"pid {state.pid}" in message
        assert f"on port {state.port}" in message
        assert first.status() == state

        cli = ("broker", "stop", "--data-dir", str(data))
        refused = run_cli(*cli, "--port", str(other), columns=80)
        assert refused.returncode == 1
        assert f"listens on port {state.port}, not {other}" in refused.stderr
        assert first.status() == state

        stopped = run_cli(*cli, "--port", str(state.port), columns=80)
        assert stopped.returncode == 0, stopped.stderr
        assert "broker stopped" in stopped.stdout
        assert first.status() is None
    finally:
        first.stop()
