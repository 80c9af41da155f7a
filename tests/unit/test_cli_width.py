"""CLI output is readable whatever the terminal width and however long the paths.

Contract: at COLUMNS=80 and COLUMNS=40, with paths longer than the terminal, an error still
names its file and `line N` whole on one line (never wrapped in the middle), and a table
folds a long cell onto the next line instead of cutting it with an ellipsis: every
character of a topic name or an event type is printed.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from frontdesk.events import EVENT_TYPES
from tests.support.cli import WIDTHS, columns_of, long_dir, run_cli


@pytest.mark.parametrize("columns", WIDTHS)
def test_an_invalid_topology_names_its_file_and_line_whole(tmp_path: Path, columns: int) -> None:
    bad = long_dir(tmp_path) / "topology.yaml"
    bad.write_text("queues:\n  operational: {partitions: -1}\n")
    env = {"FRONTDESK_TOPOLOGY": str(bad), "FRONTDESK_BOOTSTRAP_SERVERS": "127.0.0.1:1"}

    result = run_cli("topics", "plan", columns=columns, env=env)

    assert result.returncode == 1
    (line,) = [x for x in result.stderr.splitlines() if "line 2" in x]
    assert f"{bad}: line 2, queues.operational.partitions" in line
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize("columns", WIDTHS)
def test_broker_status_names_a_long_data_dir_whole(tmp_path: Path, columns: int) -> None:
    data_dir = long_dir(tmp_path)
    result = run_cli("broker", "status", "--data-dir", str(data_dir), columns=columns)
    assert result.returncode == 3
    assert "no broker running" in result.stderr


@pytest.mark.parametrize("columns", WIDTHS)
def test_schemas_list_never_cuts_a_cell(columns: int) -> None:
    result = run_cli("schemas", "list", columns=columns)
    assert result.returncode == 0, result.stderr
    assert "…" not in result.stdout
    # A folded cell continues on the next line in the same column: glued back, each event
    # type is there in full.
    columns_text = columns_of(result.stdout)
    assert all(any(name in c for c in columns_text) for name in EVENT_TYPES)
