"""A port reported "in use" says what holds it and which port to use instead.

Contract: when the broker's port is the local port of a client's outgoing connection
(the kernel hands those out from its ephemeral range), the error says so, names the
connection's state and peer, and suggests a port that is free and outside that range;
when a server listens there, the error says that instead. No broker is needed: the
sockets are real, on loopback.
"""

from __future__ import annotations

import re
import socket
from collections.abc import Iterator

import pytest

from frontdesk.broker import PortInUseError
from frontdesk.broker.ports import can_listen, ensure_free, ephemeral_range, port_uses


@pytest.fixture
def server() -> Iterator[socket.socket]:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        yield sock


def _suggested(message: str) -> int:
    match = re.search(r"--port (\d+) \(free now\)", message)
    assert match, message
    return int(match.group(1))


def test_an_outgoing_connection_on_the_port_is_named_as_such(server: socket.socket) -> None:
    with socket.socket() as client:
        client.bind(("127.0.0.1", 0))  # the port a client happened to get
        port = client.getsockname()[1]
        client.connect(server.getsockname())
        accepted, _ = server.accept()
        with accepted:
            assert [u.state for u in port_uses(port)] == ["ESTABLISHED"]
            with pytest.raises(PortInUseError) as caught:
                ensure_free(port, "client listener", wait=0.3)
    message = str(caught.value)
    assert f"port {port} (client listener)" in message
    assert "outgoing connection, not a server" in message
    assert f"127.0.0.1:{server.getsockname()[1]} (ESTABLISHED)" in message
    suggested = _suggested(message)
    assert can_listen(suggested)
    assert suggested < ephemeral_range()[0]


def test_a_listening_server_is_named_as_such(server: socket.socket) -> None:
    port = server.getsockname()[1]
    with pytest.raises(PortInUseError) as caught:
        ensure_free(port, "client listener", wait=0.3)
    message = str(caught.value)
    assert "another server listens there" in message
    assert can_listen(_suggested(message))


def test_a_remedy_replaces_the_port_advice(server: socket.socket) -> None:
    port = server.getsockname()[1]
    with pytest.raises(PortInUseError, match="use another --data-dir") as caught:
        ensure_free(port, "controller listener", remedy="use another --data-dir", wait=0)
    assert "--port" not in str(caught.value)


def test_a_free_port_passes() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    ensure_free(port, "client listener", wait=0)  # raises PortInUseError if not free
    assert can_listen(port)
