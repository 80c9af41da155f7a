"""The ``frontdesk replay`` and ``frontdesk lag`` commands, end to end on a real broker.

Contract: ``replay --queue`` reads the queue's pooled and dedicated topics as the topology
names them; JSONL goes to stdout and the summary to stderr; Parquet needs a file; ``lag
--json`` prints a parseable document; ``replay rewind`` refuses a production group with exit
code 2 and a message saying why.
"""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from confluent_kafka import TopicPartition
from typer.testing import CliRunner

from frontdesk import headers as hdr
from frontdesk.cli.main import app
from frontdesk.codec import encode
from frontdesk.events import Channel, ChannelSyncRequested, Event, SyncScope
from frontdesk.naming import main_topic
from tests.support.kafka import Cluster, unique

TOPOLOGY = """
cluster: {{namespace: {ns}}}
queues: {{operational: {{}}, automation: {{}}, sync: {{}}, fallback: {{}}}}
tenants:
  - {{id: big, mode: dedicated}}
"""


def _sync(tenant: str, i: int) -> Event:
    return ChannelSyncRequested.new(
        tenant_id=tenant,
        property_id=f"p{i}",
        sync_id=f"S{i}",
        channel=Channel.BOOKING_COM,
        scopes=(SyncScope.RATES,),
    )


@pytest.fixture(scope="module")
def queue(kafka: Cluster, tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, str], str]:
    """A namespaced sync queue: pooled topic (2 partitions) and big's dedicated topic."""
    ns = unique("cli").replace("-", "")
    pooled, dedicated = main_topic("sync", None, ns), main_topic("sync", "big", ns)
    kafka.create_topic(pooled, partitions=2)
    kafka.create_topic(dedicated, partitions=1)
    producer = kafka.producer()
    for i, (topic, tenant) in enumerate(
        [(pooled, "acme")] * 4 + [(pooled, "globex")] * 3 + [(dedicated, "big")] * 2
    ):
        event = _sync(tenant, i)
        producer.produce(
            topic, key=event.key, value=encode(event), headers=[(hdr.TENANT, tenant.encode())]
        )
    assert producer.flush(30) == 0
    path = tmp_path_factory.mktemp("topo") / "topology.yaml"
    path.write_text(TOPOLOGY.format(ns=ns))
    return {**kafka.env(), "FRONTDESK_TOPOLOGY": str(path)}, ns


def test_replay_queue_to_jsonl_and_parquet(
    queue: tuple[dict[str, str], str], tmp_path: Path
) -> None:
    env, ns = queue
    runner = CliRunner()
    result = runner.invoke(app, ["replay", "--queue", "sync", "--no-progress"], env=env)
    assert result.exit_code == 0, result.output
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(rows) == 9
    assert {r["topic"] for r in rows} == {f"{ns}.pms.sync", f"{ns}.tenant.big.sync"}
    assert "9 event(s)" in result.stderr

    out = tmp_path / "sync.parquet"
    args = ["replay", "-q", "sync", "--tenant", "acme", "--tenant", "big", "-o", str(out)]
    result = runner.invoke(app, args, env=env)
    assert result.exit_code == 0, result.output
    table = pq.read_table(out)
    assert sorted(table.column("tenant_id").to_pylist()) == ["acme"] * 4 + ["big"] * 2
    assert b"frontdesk.replay" in pq.ParquetFile(out).schema_arrow.metadata

    result = runner.invoke(app, ["replay", "-q", "sync", "-f", "parquet"], env=env)
    assert result.exit_code == 2
    assert "--output" in result.stderr


def test_lag_json_and_rewind_refusal(kafka: Cluster, queue: tuple[dict[str, str], str]) -> None:
    env, ns = queue
    group = unique("cli-workers")
    consumer = kafka.consumer(group)
    consumer.commit(offsets=[TopicPartition(f"{ns}.tenant.big.sync", 0, 1)], asynchronous=False)
    consumer.close()
    runner = CliRunner()
    result = runner.invoke(app, ["lag", "--group", group, "--json"], env=env)
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    (g,) = doc["groups"]
    assert g["lag"] == 1
    assert g["tenants"] == [
        {"group": group, "queue": "sync", "tenant": "big", "lag": 1, "exact": True}
    ]

    result = runner.invoke(app, ["lag", "--group", group], env=env)
    assert result.exit_code == 0, result.output
    # The table names topics without the namespace (said once, in the footer) and the tier
    # in a column of its own, so a row fits 80 columns.
    assert "tenant.big.sync │ main" in result.stdout
    assert f"topics in namespace {ns}" in result.stdout

    result = runner.invoke(app, ["replay", "rewind", "-g", group, "--to", "1h"], env=env)
    assert result.exit_code == 2
    assert "not a sandbox" in result.stderr
