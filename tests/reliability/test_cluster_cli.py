"""Contract: ``frontdesk cluster status|kill|start --node|logs`` drive the real 3-node cluster
one node at a time: status names every node and whether it runs, a killed node is seen
stopped while the others keep serving, and ``start --node`` brings it back into the
cluster (it is listed among the brokers again). A mistyped node gets one clear line."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from confluent_kafka.admin import AdminClient

from frontdesk.broker.cluster import LocalCluster
from tests.integration.worker.harness import REPO


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    script = Path(sys.executable).with_name("frontdesk")
    cmd = [str(script), "cluster", *args]
    return subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, timeout=180, check=False)


def _brokers(nodes: LocalCluster) -> list[int]:
    admin = AdminClient({**nodes.client_config(), "log_level": 3})
    return sorted(admin.list_topics(timeout=10).brokers)


def test_cluster_cli_kills_and_restarts_one_node(cluster3: LocalCluster) -> None:
    data = str(cluster3.data_dir)
    status = _cli("status", "--data-dir", data)
    assert status.returncode == 0, status.stderr
    assert status.stdout.count("running") == 3

    killed = _cli("kill", "--node", "3", "--data-dir", data)
    assert killed.returncode == 0
    assert "node 3 killed" in killed.stdout
    status = _cli("status", "--data-dir", data)
    assert "node 3  stopped" in status.stdout
    assert status.stdout.count("running") == 2

    started = _cli("start", "--node", "3", "--data-dir", data)
    assert started.returncode == 0, started.stdout + started.stderr
    assert "3 nodes running" in started.stdout
    assert _brokers(cluster3) == [1, 2, 3]

    logs = _cli("logs", "--node", "3", "-n", "5", "--data-dir", data)
    assert logs.returncode == 0
    assert logs.stdout.strip()
    wrong = _cli("logs", "--node", "7", "--data-dir", data)
    assert wrong.returncode != 0
    assert "no node 7; this cluster has nodes [1, 2, 3]" in wrong.stdout + wrong.stderr
    assert "Traceback" not in wrong.stdout + wrong.stderr
