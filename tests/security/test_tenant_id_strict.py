"""Hole: a tenant id with a trailing newline passed the naming, the routing and
``console add-user``.

The checks used ``re.match`` with ``^...$``, and ``$`` also matches before a final
newline: ``"acme\\n"`` became a topic prefix ``tenant.acme\\n.``, an event key and a console
user's scope, each differing from the real tenant ``acme``.

Contract: one strict check (``frontdesk.naming.validate_tenant_id``, a ``fullmatch``)
decides, and every entry point agrees with it exactly: topic naming and parsing, the
topology file (one line naming the line and field), the event models and the producer's
routing, the worker's ``--tenant``, replay filters and ``console add-user`` (the real
CLI: exit 2, one line, the users file and its other users untouched).
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from frontdesk import naming
from frontdesk.codec import default_codec
from frontdesk.console.users import UsersFileError, UserStore
from frontdesk.errors import EventValidationError
from frontdesk.events import EventMeta
from frontdesk.producer import Router
from frontdesk.queues import QueueType
from frontdesk.replay.reader import ReplayQuery
from frontdesk.topology import TopologyError
from frontdesk.topology.model import parse_topology
from frontdesk.worker.config import WorkerConfig
from tests.support.producing import booking

HOSTILE_IDS = [
    "acme\n",
    "acme\r\n",
    "acme\n\n",
    "\nacme",
    " acme",
    "acme ",
    "ACME",
    "acme.b",
    "acme/b",
    "a\x00",
    "-acme",
    "\uff41cme",  # fullwidth a
    "",
    "a" * 64,
]

TOPOLOGY = """\
queues: {{operational: {{}}, automation: {{}}, sync: {{}}, fallback: {{}}}}
tenants:
  - {{id: ok-one}}
  - {{id: {tenant}, mode: dedicated}}
"""


def _yaml_string(value: str) -> str:
    """``value`` as a double-quoted YAML scalar, every unprintable character escaped."""
    escaped = "".join(
        c if c.isprintable() and c not in '"\\' else f"\\U{ord(c):08x}" for c in value
    )
    return f'"{escaped}"'


def _route(tenant: str) -> object:
    """The producer's routing of an event whose envelope was forged to carry ``tenant``."""
    router = Router(parse_topology(TOPOLOGY.format(tenant="ok-two")), default_codec())
    event = booking()
    return router.prepare(
        event.model_copy(update={"meta": event.meta.model_copy(update={"tenant_id": tenant})})
    )


def _accepts(check: Callable[[str], Any], value: str) -> bool:
    try:
        check(value)
    except (ValueError, TopologyError, EventValidationError):
        return False
    return True


ENTRY_POINTS: dict[str, Callable[[str], Any]] = {
    "naming": naming.validate_tenant_id,
    "topic prefix": naming.tenant_prefix,
    "topology": lambda t: parse_topology(TOPOLOGY.format(tenant=_yaml_string(t))),
    "event model": lambda t: EventMeta.new("BookingCreated", tenant_id=t, property_id="p1"),
    "producer routing": _route,
    "worker --tenant": lambda t: WorkerConfig(tenant=t),
    "replay filter": lambda t: ReplayQuery(topics=("pms.sync",), tenants=frozenset({t})),
}


@pytest.mark.parametrize("tenant", HOSTILE_IDS)
def test_every_entry_point_refuses_a_malformed_id(tenant: str) -> None:
    accepted = [name for name, check in ENTRY_POINTS.items() if _accepts(check, tenant)]
    assert accepted == []
    # A topic name carrying it is not one of ours either.
    assert naming.parse_topic(f"tenant.{tenant}.sync") is None


def test_topology_names_the_line_and_field() -> None:
    with pytest.raises(TopologyError) as info:
        parse_topology(TOPOLOGY.format(tenant='"acme\\n"'), "topo.yaml")
    assert "topo.yaml: line 4, tenants.1.id: Value error, invalid tenant id 'acme\\n'" in str(
        info.value
    )


@pytest.mark.fuzz
@given(st.text(max_size=70))
@example("acme\n")
@example("a" * 63)
def test_all_entry_points_agree_with_the_one_check(tenant: str) -> None:
    expected = naming.is_tenant_id(tenant)
    verdicts = {name: _accepts(check, tenant) for name, check in ENTRY_POINTS.items()}
    assert verdicts == dict.fromkeys(ENTRY_POINTS, expected)
    if expected:
        for queue in QueueType:
            parsed = naming.parse_topic(naming.main_topic(queue, tenant))
            assert parsed is not None
            assert parsed.tenant_id == tenant


def _add_user(users: Path, tenant: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "frontdesk",
            "console",
            "add-user",
            "mallory",
            "--role",
            "tenant",
            "--tenant",
            tenant,
            "--users-file",
            str(users),
        ],
        env={**os.environ, "FRONTDESK_CONSOLE_PASSWORD": "correct horse battery"},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_console_add_user_refuses_the_id_and_keeps_the_file(tmp_path: Path) -> None:
    users = tmp_path / "users.yaml"
    created = _add_user(users, "acme")
    assert created.returncode == 0, created.stderr
    before = users.read_bytes()
    for tenant in ("acme\n", "acme\r\n", "ACME", "acme/b"):
        result = _add_user(users, tenant)
        assert result.returncode == 2, (tenant, result.stderr)
        assert "Traceback" not in result.stderr
        lines = [line for line in result.stderr.splitlines() if line.strip()]
        assert len(lines) == 1, lines
        assert "invalid tenant id" in lines[0]
        assert users.read_bytes() == before


def test_users_file_with_a_malformed_id_is_one_clear_error(tmp_path: Path) -> None:
    """A hand-edited users file: the console refuses it in one line, naming the user."""
    users = tmp_path / "users.yaml"
    assert _add_user(users, "acme").returncode == 0
    users.write_text(users.read_text().replace("tenant: acme", 'tenant: "acme\\n"'))
    with pytest.raises(UsersFileError, match=r"user 'mallory': invalid tenant id 'acme\\n'"):
        UserStore(users)
