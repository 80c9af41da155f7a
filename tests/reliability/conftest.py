"""The reliability suite: long fault-injection scenarios on a real broker (marker
``reliability``; ``pytest tests/reliability`` or ``-m reliability`` runs only them)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.reliability import report

HERE = Path(__file__).parent


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if HERE in Path(item.path).parents:
            item.add_marker(pytest.mark.reliability)
            item.add_marker(pytest.mark.broker)


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if not report.collected:
        return
    terminalreporter.section("reliability figures")
    for name, figures in report.collected.items():
        terminalreporter.write_line(f"{name}: {json.dumps(figures, sort_keys=True)}")
    terminalreporter.write_line(f"(also in {report.RESULTS})")
