"""A broker in a container, through testcontainers, where a Docker engine answers.

The embedded ``java`` broker is the default everywhere (development machines here have no
Docker engine). This path is for machines that have Docker but no Java: the test fixtures
fall back to it when ``java`` is missing and the engine answers a ping.
"""

from __future__ import annotations

import os
import socket
from typing import Any
from urllib.parse import urlparse

from frontdesk.broker.jars import DEFAULT_KAFKA_VERSION

IMAGE = f"apache/kafka:{DEFAULT_KAFKA_VERSION}"


def docker_available() -> bool:
    """True when a Docker engine answers ``/_ping`` (the client alone is not enough)."""
    host = os.environ.get("DOCKER_HOST", "unix:///var/run/docker.sock")
    parsed = urlparse(host)
    try:
        if parsed.scheme == "unix":
            sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            address: Any = parsed.path
        elif parsed.scheme == "tcp" and parsed.hostname:
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            address = (parsed.hostname, parsed.port or 2375)
        else:
            return False
        with sock:
            sock.settimeout(3)
            sock.connect(address)
            sock.sendall(b"GET /_ping HTTP/1.0\r\nHost: docker\r\n\r\n")
            return b" 200 " in sock.recv(256)
    except OSError:
        return False


class ContainerBroker:
    """One Kafka node in KRaft mode, started and stopped with the test session."""

    def __init__(self, image: str = IMAGE) -> None:
        from testcontainers.community.kafka import KafkaContainer  # noqa: PLC0415

        self._container: Any = KafkaContainer(image).with_kraft()

    def start(self) -> dict[str, Any]:
        """Start the container; return librdkafka settings for clients of it."""
        self._container.start()
        return {"bootstrap.servers": self._container.get_bootstrap_server()}

    def stop(self) -> None:
        self._container.stop()
