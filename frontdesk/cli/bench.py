"""``frontdesk bench ...``: each benchmark prints our figure, a baseline measured in the same
run, and their ratio; with ``--json`` the last line is one JSON object
(``ours``, ``baseline``, ``ratio`` and details)."""

from __future__ import annotations

import typer

app = typer.Typer(help="Benchmarks: ours against a baseline measured in the same run.")
