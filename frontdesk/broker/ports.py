"""Whether a loopback port can be listened on, and if not, why, in words a newcomer can use.

A port "in use" is not always a server: any client's outgoing connection takes a local
port from the kernel's ephemeral range (``/proc/sys/net/ipv4/ip_local_port_range``,
32768-60999 by default), and while that connection lives (or lingers) nobody can listen
there. A broker port chosen inside that range can therefore be taken for a moment by the
broker's own clients. The kernel's socket table (``/proc/net/tcp``) tells a listener from
an outgoing connection; binding is retried briefly (with ``SO_REUSEADDR``, as Kafka binds)
because such a connection usually ends within a second or two.
"""

from __future__ import annotations

import random
import socket
import time
from dataclasses import dataclass
from pathlib import Path

from frontdesk.broker.errors import PortInUseError

_TCP_STATES = {
    "01": "ESTABLISHED", "02": "SYN_SENT", "03": "SYN_RECV", "04": "FIN_WAIT1",
    "05": "FIN_WAIT2", "06": "TIME_WAIT", "07": "CLOSE", "08": "CLOSE_WAIT",
    "09": "LAST_ACK", "0A": "LISTEN", "0B": "CLOSING",
}  # fmt: skip
"""The kernel's TCP state codes, as ``/proc/net/tcp`` prints them."""


@dataclass(frozen=True, slots=True)
class PortUse:
    """One socket bound to the port: its state and the address it talks to."""

    state: str
    remote: str


def ephemeral_range() -> tuple[int, int]:
    """The kernel's range for outgoing connections' local ports."""
    try:
        low, high = Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()
        return int(low), int(high)
    except (OSError, ValueError):
        return 32768, 60999


def port_uses(port: int, tables: tuple[Path, ...] | None = None) -> list[PortUse]:
    """Every TCP socket (IPv4 and IPv6) whose local port is ``port``."""
    uses = []
    for table in tables or (Path("/proc/net/tcp"), Path("/proc/net/tcp6")):
        try:
            lines = table.read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            if len(fields) < 4:
                continue
            local, remote, state = fields[1], fields[2], fields[3]
            if int(local.rsplit(":", 1)[1], 16) != port:
                continue
            uses.append(PortUse(_TCP_STATES.get(state, state), _address(remote)))
    return uses


def _address(hex_address: str) -> str:
    host, _, port = hex_address.rpartition(":")
    if len(host) == 8:  # IPv4, little-endian
        ip = socket.inet_ntop(socket.AF_INET, bytes.fromhex(host)[::-1])
    else:
        words = [bytes.fromhex(host[i : i + 8])[::-1] for i in range(0, len(host), 8)]
        ip = socket.inet_ntop(socket.AF_INET6, b"".join(words))
    return f"{ip}:{int(port, 16)}"


def can_listen(port: int, host: str = "127.0.0.1") -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return False
        return True


def suggest_port(avoid: set[int] | None = None) -> int:
    """A port free now and outside the ephemeral range, so no client can take it later."""
    low, _high = ephemeral_range()
    candidates = list(range(max(1024, low - 20000), low))
    random.shuffle(candidates)
    for port in candidates[:500]:
        if port not in (avoid or set()) and can_listen(port):
            return port
    with socket.socket() as sock:  # give up on the range: any free port will do today
        sock.bind(("127.0.0.1", 0))
        free: int = sock.getsockname()[1]
        return free


def ensure_free(port: int, what: str, *, remedy: str | None = None, wait: float = 3.0) -> None:
    """Return once ``port`` can be listened on; else raise `PortInUseError` saying what
    holds it (a server, or a client's outgoing connection) and what to do. ``remedy``
    replaces the advice to choose another ``--port`` (for a port the user did not pick)."""
    deadline = time.monotonic() + wait
    while True:
        if can_listen(port):
            return
        uses = port_uses(port)
        listening = any(u.state == "LISTEN" for u in uses)
        if listening or time.monotonic() >= deadline:
            break
        time.sleep(0.2)  # an outgoing connection: it usually ends soon
    raise PortInUseError(_explain(port, what, uses, remedy))


def _explain(port: int, what: str, uses: list[PortUse], remedy: str | None) -> str:
    if any(u.state == "LISTEN" for u in uses) or not uses:
        advice = remedy or f"choose another port, e.g. --port {suggest_port({port})} (free now)"
        return (
            f"port {port} ({what}) is already in use on 127.0.0.1: another server listens "
            f"there; stop it, or {advice}"
        )
    use = uses[0]
    low, high = ephemeral_range()
    where = (
        f"; ports {low}-{high} are the kernel's range for outgoing connections, so a client "
        f"can take one at any time"
        if low <= port <= high
        else ""
    )
    advice = remedy or (
        f"choose a port outside that range, e.g. --port {suggest_port({port})} (free now)"
    )
    return (
        f"port {port} ({what}) is in use on 127.0.0.1 by an outgoing connection, not a "
        f"server: a client took it as its local (ephemeral) port to reach {use.remote} "
        f"({use.state}). It frees when that connection closes{where}. Try again in a "
        f"moment, or {advice}"
    )


__all__ = ["PortUse", "can_listen", "ensure_free", "ephemeral_range", "port_uses", "suggest_port"]
