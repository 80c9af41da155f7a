"""Session fixtures: one real Kafka broker for the whole run.

``FRONTDESK_BOOTSTRAP_SERVERS`` points the suite at an existing cluster; otherwise the
embedded broker is started (downloading the jars on first use), or, on a machine without
Java whose Docker engine answers, a testcontainers broker. When none works, every broker
test *fails*: a suite that silently skips its integration tests proves nothing.
"""

from __future__ import annotations

import os
import shutil
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import settings

from frontdesk.broker import BrokerError, LocalBroker
from frontdesk.broker.container import ContainerBroker, docker_available
from tests.support.kafka import Cluster

# Property-based tests over hostile input run a bounded number of examples in `make test`;
# `make fuzz` selects the `fuzz` profile (HYPOTHESIS_PROFILE=fuzz) for a much longer run.
settings.register_profile("default", max_examples=100, deadline=None)
settings.register_profile("fuzz", max_examples=20_000, deadline=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "tests/integration" in str(item.path):
            item.add_marker(pytest.mark.broker)


def _start(tmp: Path, *, secure: bool) -> LocalBroker:
    broker = LocalBroker(tmp, port=_free_port(), secure=secure)
    try:
        broker.start(timeout=120)
    except BrokerError as exc:
        pytest.fail(f"could not start the local Kafka broker for the tests: {exc}", False)
    return broker


@pytest.fixture(scope="session")
def kafka(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    """The plain (PLAINTEXT) cluster every integration test uses."""
    existing = os.environ.get("FRONTDESK_BOOTSTRAP_SERVERS")
    if existing:
        yield Cluster({"bootstrap.servers": existing}, origin="FRONTDESK_BOOTSTRAP_SERVERS")
        return
    if shutil.which("java") is None and docker_available():
        container = ContainerBroker()
        try:
            yield Cluster(container.start(), origin="testcontainers")
        finally:
            container.stop()
        return
    broker = _start(tmp_path_factory.mktemp("kafka"), secure=False)
    state = broker.status()
    assert state is not None
    try:
        yield Cluster(state.client_config(), origin=f"local {state.version}")
    finally:
        broker.stop()


@pytest.fixture(scope="session")
def secure_broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalBroker]:
    """A second broker with SASL/SCRAM and ACLs enforced, for tenant isolation tests."""
    broker = _start(tmp_path_factory.mktemp("kafka-secure"), secure=True)
    try:
        yield broker
    finally:
        broker.stop()


@pytest.fixture(scope="session")
def secure_kafka(secure_broker: LocalBroker) -> Cluster:
    state = secure_broker.status()
    assert state is not None
    return Cluster(state.client_config(), origin="local secure")
