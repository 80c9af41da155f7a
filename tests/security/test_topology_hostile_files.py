"""Hole: the topology file an operator types (or is handed) could crash or exhaust the CLI,
or give one tenant the topics of all of them.

A recursive YAML anchor raised ``RecursionError``; a 569-byte "billion laughs" file grew past
3 GB; a non-UTF-8 file raised ``UnicodeDecodeError``; a 50 MB file gave ``MemoryError``
after 92 s; and ``principal: "User:*"`` was accepted, handing a dedicated tenant's prefixed
ACLs to every principal.

Contract: each hostile file is refused by ``frontdesk topics plan`` (the real CLI, in a
process with a bounded address space and a deadline) with one line naming the file and
the line (and the field, where there is one), exit code 1, no traceback, before anything
talks to Kafka. A tenant's principal is its own ``User:<name>``: no wildcard, no other
kind, not the broker's admin or ``ANONYMOUS``, and not one another tenant has. The
well-formed file beside them still loads (nothing else is refused).
"""

from __future__ import annotations

import os
import resource
import subprocess
import sys
from pathlib import Path

import pytest

from frontdesk.topology import TopologyError, load_topology
from frontdesk.topology.model import MAX_FILE_BYTES, parse_topology

VALID = """\
queues:
  operational: {partitions: 1}
  automation: &defaults {partitions: 1}
  sync: *defaults
  fallback: {partitions: 1}
tenants:
  - {id: small}
  - {id: big, mode: dedicated, principal: "User:big"}
"""


def _laughs(levels: int, fan: int) -> str:
    """The classic exponential alias bomb: each level repeats the previous one ``fan`` times."""
    lines = ["l0: &l0 [lol]"]
    for i in range(1, levels + 1):
        lines.append(f"l{i}: &l{i} [{', '.join([f'*l{i - 1}'] * fan)}]")
    return "\n".join(lines) + "\n"


HOSTILE_TEXT: dict[str, tuple[bytes, str]] = {
    "recursive anchor": (b"queues: &q\n  operational: *q\n", "line 2: refused: alias *q"),
    "self-referencing list": (b"a: &a [x, *a]\n", "line 1: refused: alias *a"),
    "billion laughs (569 bytes)": (_laughs(9, 9).encode(), "refused: expands to more than"),
    "long alias chain": (_laughs(40, 2).encode(), "refused: expands to more than"),
    "alias flood": (
        b"x: &x 1\nitems: [" + b", ".join([b"*x"] * 5000) + b"]\n",
        "line 2: refused: more than 200 aliases",
    ),
    "deep nesting": (b"a: " + b"[" * 100_000 + b"]" * 100_000 + b"\n", "line 1: refused: nested"),
    "non-UTF-8 byte": (
        VALID.encode().replace(b"small}", b"sm\xe9ll}"),
        "line 7, column 12: not UTF-8 (byte 0xe9)",
    ),
    "oversized file (50 MB)": (b"# " + b"x" * (50 * 1024 * 1024) + b"\n", "refused: larger than"),
    "broken YAML": (b"queues: [\n", "line 2, column 1: not valid YAML"),
    "python tag": (b"queues: !!python/object/apply:os.system [id]\n", "not valid YAML"),
}

HOSTILE_PRINCIPALS: dict[str, tuple[str, str]] = {
    "wildcard principal": ('"User:*"', "line 8, tenants.1.principal"),
    "wildcard in a name": ('"User:big*"', "line 8, tenants.1.principal"),
    "group principal": ('"Group:big"', "line 8, tenants.1.principal"),
    "broker admin": ('"User:admin"', "line 8, tenants.1.principal: Value error, principal "),
    "anonymous": ('"User:ANONYMOUS"', "line 8, tenants.1.principal"),
    "principal with a newline": ('"User:big\\n"', "line 8, tenants.1.principal"),
}


def _plan(path: Path) -> subprocess.CompletedProcess[str]:
    """``frontdesk topics plan`` on ``path``, with 1 GiB of address space and a deadline."""

    def limit() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (1 << 30, 1 << 30))

    env = {
        **os.environ,
        "FRONTDESK_TOPOLOGY": str(path),
        # Never contacted: the file is refused first. Port 1 refuses connections at once.
        "FRONTDESK_BOOTSTRAP_SERVERS": "127.0.0.1:1",
    }
    return subprocess.run(
        [sys.executable, "-m", "frontdesk", "topics", "plan"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        preexec_fn=limit,
        check=False,
    )


def _frontdesk_lines(stderr: str) -> list[str]:
    """stderr without librdkafka's own log lines (``%3|...``)."""
    return [line for line in stderr.splitlines() if line and not line.startswith("%")]


def _assert_refused_in_one_line(result: subprocess.CompletedProcess[str], expected: str) -> None:
    lines = _frontdesk_lines(result.stderr)
    assert result.returncode == 1, result.stderr[-2000:]
    assert "Traceback" not in result.stderr
    for crash in ("RecursionError", "MemoryError", "UnicodeDecodeError"):
        assert crash not in result.stderr
    assert lines, result.stderr
    assert lines[0].startswith("error: "), lines
    assert expected in lines[0], lines


@pytest.mark.parametrize("case", sorted(HOSTILE_TEXT))
def test_hostile_file_is_refused_in_one_line(tmp_path: Path, case: str) -> None:
    content, expected = HOSTILE_TEXT[case]
    path = tmp_path / "topology.yaml"
    path.write_bytes(content)
    result = _plan(path)
    _assert_refused_in_one_line(result, expected)
    assert len(_frontdesk_lines(result.stderr)) == 1
    assert str(path) in _frontdesk_lines(result.stderr)[0]


@pytest.mark.parametrize("case", sorted(HOSTILE_PRINCIPALS))
def test_principal_that_reaches_beyond_one_tenant_is_refused(tmp_path: Path, case: str) -> None:
    principal, expected = HOSTILE_PRINCIPALS[case]
    path = tmp_path / "topology.yaml"
    path.write_text(VALID.replace('"User:big"', principal))
    result = _plan(path)
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert expected in result.stderr


def test_principal_shared_by_two_tenants_is_refused_at_the_second() -> None:
    text = VALID + '  - {id: other, mode: dedicated, principal: "User:big"}\n'
    with pytest.raises(TopologyError) as info:
        parse_topology(text, "topo.yaml")
    message = str(info.value)
    assert "topo.yaml: line 9, tenants.2.principal" in message
    assert "already tenant 'big'" in message


def test_well_formed_file_with_aliases_still_loads(tmp_path: Path) -> None:
    path = tmp_path / "topology.yaml"
    path.write_text(VALID)
    topology = load_topology(path)
    assert all(queue.partitions == 1 for queue in topology.queues.values())
    assert [t.principal for t in topology.dedicated_tenants()] == ["User:big"]
    # Exactly at the size limit is still read (a comment pads it).
    padded = VALID + "#" * (MAX_FILE_BYTES - len(VALID) - 1) + "\n"
    path.write_text(padded)
    assert load_topology(path).tenant("small") is not None
