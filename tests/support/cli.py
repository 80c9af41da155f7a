"""Run the ``frontdesk`` command as a user would: a child process, a chosen terminal width.

Rich reads ``COLUMNS`` when the CLI starts, so each width needs its own process; this is
what lets a test prove that output is readable at 80 and at 40 columns, and that an error
naming a long path is never broken in the middle of its ``file: line N``.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

WIDTHS = (80, 40)
"""The terminal widths every CLI test runs at: a normal terminal and a very narrow one."""


def run_cli(
    *args: str, columns: int, env: dict[str, str] | None = None, cwd: Path | None = None
) -> subprocess.CompletedProcess[str]:
    """``frontdesk ARGS`` in a child with ``COLUMNS=columns``; output captured as text."""
    full_env = {**os.environ, **(env or {}), "COLUMNS": str(columns), "TERM": "dumb"}
    full_env.pop("FORCE_COLOR", None)
    return subprocess.run(
        [sys.executable, "-m", "frontdesk", *args],
        env=full_env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def long_dir(base: Path) -> Path:
    """A directory whose path alone is wider than any terminal (as pytest's tmp paths are
    on some machines): output naming it must still be whole."""
    path = base / ("a-very-long-directory-name-" * 4).rstrip("-") / ("deeper-still-" * 4)
    path.mkdir(parents=True)
    return path


def columns_of(table: str) -> list[str]:
    """Each column of a rich table as one string: the pieces of its cells glued together
    without whitespace, so a cell folded over several lines reads whole again."""
    rows = [[p.strip() for p in line.split("│")] for line in table.splitlines() if "│" in line]
    width = max((len(r) for r in rows), default=0)
    return ["".join(r[i].replace(" ", "") for r in rows if len(r) > i) for i in range(width)]
