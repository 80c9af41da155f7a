"""Starting frontdesk commands as real processes for a test, and stopping them."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from frontdesk.console import Role, add_user
from frontdesk.topology import Topology
from tests.integration.worker.harness import REPO, write_topology
from tests.support.kafka import Cluster


@contextmanager
def started(args: list[str], env: dict[str, str], log: Path) -> Iterator[subprocess.Popen[bytes]]:
    """``python -m frontdesk ARGS`` with ``env`` over this environment, output to ``log``;
    SIGINT (then SIGKILL after 30 s) when the block ends."""
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "frontdesk", *args],
            cwd=REPO,
            env={**os.environ, **env},
            stdout=out,
            stderr=subprocess.STDOUT,
        )
        try:
            yield process
        finally:
            if process.poll() is None:
                process.send_signal(signal.SIGINT)
            try:
                process.wait(30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def console_env(kafka: Cluster, topology: Topology, tmp: Path) -> dict[str, str]:
    """The environment of a ``frontdesk console`` on ``kafka`` with one operator, ``ops``
    (password ``operator-pass``), in ``tmp/users.yaml``."""
    users = tmp / "users.yaml"
    add_user(users, "ops", "operator-pass", Role.OPERATOR)
    return {
        **kafka.env(),
        "FRONTDESK_TOPOLOGY": str(write_topology(topology, tmp / "topology.yaml")),
        "FRONTDESK_CONSOLE_USERS_FILE": str(users),
        "FRONTDESK_CONSOLE_SECRET": "test-secret",
    }
