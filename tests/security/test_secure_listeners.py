"""Hole: in ``--secure`` mode the broker still had doors that asked for no credentials.

The INTERNAL (inter-broker) and CONTROLLER listeners were PLAINTEXT, and their principal,
``User:ANONYMOUS``, was a super user: any local process could connect to them without
credentials and read or write every tenant's topics, the DLQ state included, and list or
change the ACLs.

Contract: every TCP port the broker process listens on (found from the process's own
sockets, not from its configuration) refuses an unauthenticated client: metadata, produce
and consume all fail, and neither a wrong admin password (SCRAM or PLAIN) nor the
unauthenticated principal gets in. Nothing the probes sent reached the topic; the record
written before them is still there, alone, and the authenticated admin still works. The
same probe against a plain broker gets in, so the probe itself can see an open door.
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from confluent_kafka import Consumer, KafkaException, Producer, TopicPartition
from confluent_kafka.admin import AdminClient

from frontdesk.broker import LocalBroker
from tests.support.kafka import Cluster, unique

_PROBE_TIMEOUT = 4.0


def _listening_ports(pid: int) -> set[int]:
    """TCP ports in LISTEN state owned by ``pid``: its socket inodes joined with /proc/net."""
    inodes = set()
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        try:
            target = os.readlink(fd)
        except OSError:
            continue
        if target.startswith("socket:["):
            inodes.add(target[len("socket:[") : -1])
    ports = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            local, state, inode = fields[1], fields[3], fields[9]
            if state == "0A" and inode in inodes:  # 0A: TCP_LISTEN
                ports.add(int(local.rsplit(":", 1)[1], 16))
    return ports


def _client(port: int, **auth: str) -> dict[str, Any]:
    return {
        "bootstrap.servers": f"127.0.0.1:{port}",
        "socket.timeout.ms": 3000,
        "log_level": 0,  # refused connections are the expected outcome here
        **auth,
    }


AUTH_ATTEMPTS: dict[str, dict[str, str]] = {
    "no credentials": {"security.protocol": "PLAINTEXT"},
    "SCRAM, wrong admin password": {
        "security.protocol": "SASL_PLAINTEXT",
        "sasl.mechanism": "SCRAM-SHA-512",
        "sasl.username": "admin",
        "sasl.password": "not-the-password",
    },
    "PLAIN, wrong admin password": {
        "security.protocol": "SASL_PLAINTEXT",
        "sasl.mechanism": "PLAIN",
        "sasl.username": "admin",
        "sasl.password": "not-the-password",
    },
    "PLAIN as ANONYMOUS": {
        "security.protocol": "SASL_PLAINTEXT",
        "sasl.mechanism": "PLAIN",
        "sasl.username": "ANONYMOUS",
        "sasl.password": "anything",
    },
}


def _metadata_works(conf: dict[str, Any]) -> bool:
    try:
        AdminClient(conf).list_topics(timeout=_PROBE_TIMEOUT)
    except KafkaException:
        return False
    return True


def _produce_works(conf: dict[str, Any], topic: str) -> bool:
    outcome: list[Any] = []
    producer = Producer({**conf, "message.timeout.ms": int(_PROBE_TIMEOUT * 1000)})
    producer.produce(topic, b"forged", on_delivery=lambda err, _msg: outcome.append(err))
    producer.flush(_PROBE_TIMEOUT + 2)
    # `is None`, not `== [None]`: KafkaError's __eq__ raises when compared with None.
    return len(outcome) == 1 and outcome[0] is None


def _consume_works(conf: dict[str, Any], topic: str) -> bool:
    consumer = Consumer({**conf, "group.id": unique("probe"), "enable.auto.commit": False})
    try:
        consumer.assign([TopicPartition(topic, 0, 0)])
        message = consumer.poll(_PROBE_TIMEOUT)
        return message is not None and message.error() is None
    finally:
        consumer.close()


def _probe(conf: dict[str, Any], topic: str) -> dict[str, bool]:
    return {
        "metadata": _metadata_works(conf),
        "produce": _produce_works(conf, topic),
        "consume": _consume_works(conf, topic),
    }


def _records(cluster: Cluster, topic: str) -> list[bytes]:
    consumer = Consumer({**cluster.config, "group.id": unique("check"), "log_level": 0})
    try:
        low, high = consumer.get_watermark_offsets(TopicPartition(topic, 0), timeout=10)
        consumer.assign([TopicPartition(topic, 0, low)])
        values: list[bytes] = []
        while len(values) < high - low:
            message = consumer.poll(10)
            assert message is not None, "the topic's records could not be read back"
            assert message.error() is None, message.error()
            values.append(message.value())
        return values
    finally:
        consumer.close()


def _seed(cluster: Cluster) -> str:
    topic = cluster.create_topic(unique("secret"))
    producer = Producer(cluster.config)
    producer.produce(topic, b"tenant secret")
    assert producer.flush(30) == 0
    return topic


def test_no_listening_port_lets_an_unauthenticated_client_in(
    secure_broker: LocalBroker, secure_kafka: Cluster
) -> None:
    state = secure_broker.status()
    assert state is not None
    topic = _seed(secure_kafka)
    ports = _listening_ports(state.pid)
    # Client, inter-broker and controller: every one of them is probed, whatever its name.
    assert len(ports) == 3, ports
    assert state.port in ports

    attempts = [(port, name) for port in sorted(ports) for name in AUTH_ATTEMPTS]
    # Each probe waits out its timeouts; run them side by side (they are I/O only).
    with ThreadPoolExecutor(max_workers=len(attempts)) as pool:
        results = pool.map(
            lambda attempt: _probe(_client(attempt[0], **AUTH_ATTEMPTS[attempt[1]]), topic),
            attempts,
        )
        opened = {
            (port, name, action)
            for (port, name), result in zip(attempts, results, strict=True)
            for action, worked in result.items()
            if worked
        }
    assert opened == set()

    # Nothing the probes sent arrived; the admin, authenticated, still reads and writes.
    assert _records(secure_kafka, topic) == [b"tenant secret"]
    assert _probe(secure_kafka.config, topic) == {
        "metadata": True,
        "produce": True,
        "consume": True,
    }


@pytest.mark.broker
def test_the_probe_sees_an_open_door(kafka: Cluster) -> None:
    """Control: against a plain broker the same unauthenticated probe gets in."""
    topic = _seed(kafka)
    port = int(kafka.bootstrap_servers.rsplit(":", 1)[1])
    assert _probe(_client(port, **AUTH_ATTEMPTS["no credentials"]), topic) == {
        "metadata": True,
        "produce": True,
        "consume": True,
    }
