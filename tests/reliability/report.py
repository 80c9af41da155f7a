"""Each scenario's measured figures: printed at the end of the run and kept in
``.reliability/results.json`` (git-ignored) for docs/reliability.md."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

from tests.integration.worker.harness import REPO

RESULTS = REPO / ".reliability" / "results.json"

collected: dict[str, dict[str, Any]] = {}
"""This session's figures by scenario, for the terminal summary."""


def record(scenario: str, figures: dict[str, Any], path: Path = RESULTS) -> None:
    """Keep ``figures`` for ``scenario`` (other scenarios' earlier figures stay)."""
    figures = {**figures, "measured_at": time.strftime("%Y-%m-%dT%H:%M:%S%z")}
    collected[scenario] = figures
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        existing: dict[str, Any] = json.loads(path.read_text())
    except (OSError, ValueError):
        existing = {}
    existing[scenario] = figures
    path.write_text(json.dumps(existing, indent=2, sort_keys=True) + "\n")
    print(f"\n[reliability] {scenario}: {json.dumps(figures, sort_keys=True)}")


__all__ = ["RESULTS", "collected", "record"]
