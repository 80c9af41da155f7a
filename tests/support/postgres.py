"""A throwaway PostgreSQL server for outbox tests.

`FRONTDESK_TEST_POSTGRES_DSN` points the tests at an existing server. Otherwise a cluster
is created with `initdb` in a temp dir and started with `pg_ctl` on a free port (as the
`postgres` user when the tests run as root, since PostgreSQL refuses to run as root). When
neither works the tests FAIL: an outbox suite that skips PostgreSQL proves nothing about it.
"""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

ENV_DSN = "FRONTDESK_TEST_POSTGRES_DSN"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _bin(name: str) -> str:
    found = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}")) or [shutil.which(name) or ""]
    if not found[-1]:
        pytest.fail(
            f"PostgreSQL's {name} not found: install PostgreSQL (apt-get install -y "
            f"postgresql) or set {ENV_DSN}",
            False,
        )
    return found[-1]


def _run(args: list[str], as_postgres: bool) -> None:
    if as_postgres:
        args = ["runuser", "-u", "postgres", "--", *args]
    done = subprocess.run(args, capture_output=True, text=True, timeout=120, check=False)
    if done.returncode != 0:
        pytest.fail(f"{' '.join(args)} failed:\n{done.stdout}\n{done.stderr}", False)


@pytest.fixture(scope="session")
def postgres_dsn() -> Iterator[str]:
    """A DSN of a PostgreSQL server the tests may create tables in."""
    existing = os.environ.get(ENV_DSN)
    if existing:
        yield existing
        return
    as_postgres = os.geteuid() == 0
    root = Path(tempfile.mkdtemp(prefix="frontdesk-pg-"))
    data = root / "data"
    if as_postgres:
        shutil.chown(root, "postgres", "postgres")
    port = _free_port()
    _run(
        [_bin("initdb"), "-D", str(data), "-A", "trust", "-U", "postgres", "-E", "UTF8"],
        as_postgres,
    )
    # fsync off: a throwaway test cluster trades crash safety for speed on shared CI disks.
    options = f"-p {port} -k {root} -c listen_addresses=127.0.0.1 -c fsync=off"
    log = root / "server.log"
    _run(
        [_bin("pg_ctl"), "-D", str(data), "-o", options, "-l", str(log), "-w", "start"], as_postgres
    )
    try:
        yield f"postgresql://postgres@127.0.0.1:{port}/postgres"
    finally:
        _run([_bin("pg_ctl"), "-D", str(data), "-m", "immediate", "-w", "stop"], as_postgres)
        shutil.rmtree(root, ignore_errors=True)
