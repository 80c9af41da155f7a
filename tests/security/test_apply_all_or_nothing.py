"""Hole: ``frontdesk topics apply`` half-applied a topology the broker would partly refuse.

With one bad config value, an oversized retention or a bad tenant id, 54-56 topics were
created and no ACL was granted, although ``plan`` had passed: the cluster was left in a
state no file describes, with dedicated tenants' topics in place and their principals
locked out.

Contract (real secure broker, real CLI): before changing anything, apply puts every topic
creation and config change to the broker with validate-only, and checks tenant ids and ACL
principals; if any part would fail it applies nothing (zero topics, zero ACLs, zero
quotas), exits 1 and names every problem, each once. ``plan`` shows the same problems. The
corrected file then applies completely, ACLs included.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from confluent_kafka.admin import AclBindingFilter, AclOperation, AclPermissionType
from confluent_kafka.admin._resource import ResourcePatternType, ResourceType

from frontdesk.admin.acls import desired_acls
from frontdesk.topology.model import parse_topology
from tests.support.kafka import Cluster, unique

TOPOLOGY = """\
cluster: {{namespace: {ns}}}
queues:
  operational: {{partitions: 1, config: {{{operational}}}}}
  automation: {{partitions: 1, config: {{{automation}}}}}
  sync: {{partitions: 1, retry: {{tiers: [10s]}}}}
  fallback: {{partitions: 1, retry: {{tiers: [1m]}}, retention: {fallback_retention}}}
tenants:
  - {{id: pooled-one}}
  - {{id: {tenant}, mode: dedicated, principal: "User:{user}",
     quotas: {{producer_byte_rate: 1048576}}}}
"""

GOOD = {
    "operational": "cleanup.policy: delete",
    "automation": "max.message.bytes: '1048588'",
    "fallback_retention": "7d",
}


def _write(tmp_path: Path, ns: str, **parts: str) -> Path:
    text = TOPOLOGY.format(ns=ns, user=f"{ns}-user", **{**GOOD, **parts})
    path = tmp_path / "topology.yaml"
    path.write_text(text)
    return path


def _cli(cluster: Cluster, path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, **cluster.env(), "FRONTDESK_TOPOLOGY": str(path)}
    return subprocess.run(
        [sys.executable, "-m", "frontdesk", "topics", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )


def _topics(cluster: Cluster, ns: str) -> set[str]:
    return {t for t in cluster.admin.list_topics(timeout=10).topics if t.startswith(f"{ns}.")}


def _acls(cluster: Cluster, principal: str) -> list[object]:
    acl_filter = AclBindingFilter(
        ResourceType.ANY,
        None,  # type: ignore[arg-type]  # any name
        ResourcePatternType.ANY,
        principal,
        None,  # type: ignore[arg-type]  # any host
        AclOperation.ANY,
        AclPermissionType.ANY,
    )
    result: list[object] = cluster.admin.describe_acls(acl_filter).result(timeout=30)
    return result


def test_broker_refusals_apply_nothing_and_are_all_reported(
    secure_kafka: Cluster, tmp_path: Path
) -> None:
    ns = unique("aon")
    path = _write(
        tmp_path,
        ns,
        tenant="acme",
        operational="cleanup.policy: bogus",
        automation="retention.ms: '99999999999999999999'",
    )
    planned = _cli(secure_kafka, path, "plan")
    assert planned.returncode == 0, planned.stderr[-2000:]
    assert "would fail:" in planned.stdout
    assert "Invalid value bogus for configuration cleanup.policy" in planned.stdout

    applied = _cli(secure_kafka, path, "apply")
    assert applied.returncode == 1, applied.stdout[-2000:] + applied.stderr[-2000:]
    assert "Traceback" not in applied.stderr
    assert "nothing applied" in applied.stderr
    # Every refusal is named: both bad configs, on the pooled and the dedicated topic each.
    for topic in (f"{ns}.pms.operational", f"{ns}.tenant.acme.operational"):
        assert f"create {topic}: Invalid value bogus for configuration cleanup.policy" in (
            applied.stderr
        )
    for topic in (f"{ns}.pms.automation", f"{ns}.tenant.acme.automation"):
        assert f"create {topic}: Invalid value 99999999999999999999 for configuration" in (
            applied.stderr
        )
    assert _topics(secure_kafka, ns) == set()
    assert _acls(secure_kafka, f"User:{ns}-user") == []

    # The corrected file applies completely: every topic and every ACL.
    fixed = _write(tmp_path, ns, tenant="acme")
    applied = _cli(secure_kafka, fixed, "apply")
    assert applied.returncode == 0, applied.stdout[-2000:] + applied.stderr[-2000:]
    declared = parse_topology(fixed.read_text())
    assert _topics(secure_kafka, ns) == {t.name for t in declared.topics()}
    granted = _acls(secure_kafka, f"User:{ns}-user")
    assert granted
    assert len(granted) == len(desired_acls(declared))


def test_oversized_retention_and_bad_tenant_id_apply_nothing(
    secure_kafka: Cluster, tmp_path: Path
) -> None:
    ns = unique("aon")
    cases = {
        "queues.fallback.retention": {"fallback_retention": "99999999999999999999d"},
        "tenants.1.id": {"tenant": '"acme\\n"'},
    }
    for field, parts in cases.items():
        path = _write(tmp_path, ns, **{"tenant": "acme", **parts})
        applied = _cli(secure_kafka, path, "apply")
        assert applied.returncode == 1, (field, applied.stderr[-2000:])
        assert "Traceback" not in applied.stderr
        assert field in applied.stderr, (field, applied.stderr[-2000:])
    assert _topics(secure_kafka, ns) == set()
    assert _acls(secure_kafka, f"User:{ns}-user") == []
