"""`frontdesk lag` is readable in a terminal of 80 (or 40) columns, and `--json` is whole.

Contract: a partition of a retry tier is shown with its main topic and its tier (`retry
10s`) in a column of their own, never cut at the terminal's edge (`pms.operational.r…`);
the JSON document names every topic in full whatever the width.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from confluent_kafka import TopicPartition

from frontdesk.naming import main_topic, retry_topic
from tests.support.cli import WIDTHS, columns_of, long_dir, run_cli
from tests.support.kafka import Cluster, unique


@pytest.mark.parametrize("columns", WIDTHS)
def test_lag_shows_the_retry_tier_at_any_width(
    kafka: Cluster, tmp_path: Path, columns: int
) -> None:
    ns = unique("lagcli").replace("-", "")
    tier = retry_topic(main_topic("operational", None, ns), "10s")
    kafka.create_topic(tier, partitions=1)
    producer = kafka.producer()
    for _ in range(3):
        producer.produce(tier, value=b"waiting")
    assert producer.flush(30) == 0
    group = f"{ns}.frontdesk.operational"
    consumer = kafka.consumer(group)
    consumer.commit(offsets=[TopicPartition(tier, 0, 1)], asynchronous=False)
    consumer.close()
    topology = long_dir(tmp_path) / "topology.yaml"
    demo = Path(__file__).parents[2] / "deploy" / "topology.demo.yaml"
    topology.write_text(demo.read_text().replace("namespace: demo", f"namespace: {ns}"))
    env = {
        "FRONTDESK_BOOTSTRAP_SERVERS": kafka.bootstrap_servers,
        "FRONTDESK_TOPOLOGY": str(topology),
    }

    shown = run_cli("lag", "-g", group, columns=columns, env=env)

    assert shown.returncode == 0, shown.stderr
    assert "…" not in shown.stdout
    partitions = shown.stdout.split(" by tenant")[0]  # the first table
    # topic, tier, partition, committed, end, lag: each cell whole once its folds are glued
    glued = columns_of(partitions)
    assert glued[:6] == ["pms.operational", "retry10s", "0", "1", "3", "2"], partitions
    assert f"namespace {ns}" in shown.stdout

    as_json = run_cli("lag", "-g", group, "--json", columns=columns, env=env)
    assert as_json.returncode == 0, as_json.stderr
    (g,) = json.loads(as_json.stdout)["groups"]
    assert [(p["topic"], p["lag"]) for p in g["partitions"]] == [(tier, 2)]
