"""The CLI's own behaviour that needs no broker: help, schema checks, clear errors."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from frontdesk.cli.main import app

runner = CliRunner()


def test_schemas_check_passes_on_the_shipped_contracts() -> None:
    result = runner.invoke(app, ["schemas", "check"])
    assert result.exit_code == 0, result.output
    assert "compatible" in result.output


def test_topics_plan_without_a_cluster_says_what_to_do(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("FRONTDESK_BOOTSTRAP_SERVERS", raising=False)
    monkeypatch.setenv("FRONTDESK_HOME", str(tmp_path))  # no local broker state here
    result = runner.invoke(app, ["topics", "plan"])
    assert result.exit_code == 1
    assert "FRONTDESK_BOOTSTRAP_SERVERS" in result.output
    assert "frontdesk broker start" in result.output


def test_invalid_topology_is_reported_with_its_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    bad = tmp_path / "topology.yaml"
    bad.write_text("queues:\n  operational: {partitions: -1}\n")
    monkeypatch.setenv("FRONTDESK_TOPOLOGY", str(bad))
    monkeypatch.setenv("FRONTDESK_BOOTSTRAP_SERVERS", "127.0.0.1:1")
    result = runner.invoke(app, ["topics", "plan"])
    assert result.exit_code == 1
    assert "line 2" in result.output
    assert "queues.operational.partitions" in result.output


def test_broker_status_when_nothing_runs(tmp_path: Path) -> None:
    result = runner.invoke(app, ["broker", "status", "--data-dir", str(tmp_path)])
    assert result.exit_code == 3
    assert "no broker running" in result.output
