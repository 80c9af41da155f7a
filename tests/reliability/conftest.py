"""The reliability suite: long fault-injection scenarios on a real broker (marker
``reliability``; ``pytest tests/reliability`` or ``-m reliability`` runs only them)."""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from frontdesk.broker import BrokerError, LocalBroker
from frontdesk.broker.cluster import LocalCluster
from tests.reliability import report
from tests.reliability.multinode import restore

HERE = Path(__file__).parent


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if HERE in Path(item.path).parents:
            item.add_marker(pytest.mark.reliability)
            item.add_marker(pytest.mark.broker)


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if not report.collected:
        return
    terminalreporter.section("reliability figures")
    for name, figures in report.collected.items():
        terminalreporter.write_line(f"{name}: {json.dumps(figures, sort_keys=True)}")
    terminalreporter.write_line(f"(also in {report.RESULTS})")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@pytest.fixture
def own_broker(tmp_path: Path) -> Iterator[LocalBroker]:
    """A single-node broker of this test alone (tmp data dir, free port), whatever
    ``FRONTDESK_BOOTSTRAP_SERVERS`` says: killing it disturbs no other test."""
    broker = LocalBroker(tmp_path / "broker", port=_free_port())
    try:
        broker.start(timeout=120)
    except BrokerError as exc:
        pytest.fail(f"could not start the scenario's own broker: {exc}", False)
    try:
        yield broker
    finally:
        broker.stop()


@pytest.fixture(scope="session")
def three_node_cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalCluster]:
    """A 3-node KRaft cluster (each node broker and controller voter, free ports) started
    once for the cluster scenarios; each scenario gets it with every node running."""
    nodes = LocalCluster(tmp_path_factory.mktemp("cluster3"), nodes=3, port=0)
    try:
        nodes.start(timeout=180)
    except BrokerError as exc:
        nodes.stop()
        pytest.fail(f"could not start the 3-node cluster: {exc}", False)
    try:
        yield nodes
    finally:
        nodes.stop()


@pytest.fixture
def cluster3(three_node_cluster: LocalCluster) -> LocalCluster:
    """The session's 3-node cluster, every node running (a node an earlier scenario left
    down is started again)."""
    restore(three_node_cluster)
    return three_node_cluster
