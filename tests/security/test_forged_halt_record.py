"""A dedicated tenant cannot report another tenant as halted.

Hole: a dedicated tenant may write its own held-keys topic (its worker keeps its halts
there), so it could plant a halt record naming another tenant, and operators would see that
tenant halted in `frontdesk lag` and the console. Contract: a halt read from a dedicated
tenant's topic counts only when it names that tenant; the shared topic (written by the
platform's workers) speaks for every tenant.
"""

from __future__ import annotations

import time

from frontdesk import naming
from frontdesk.worker.halts import TenantHalt, halt_key, halted_tenants
from tests.support.kafka import Cluster, unique


def _halt(group: str, tenant: str) -> tuple[bytes, bytes]:
    now = time.time_ns() // 1_000_000
    halt = TenantHalt(group, tenant, "operational", "dlq budget", now, "w-1", now)
    return halt_key(group, "w-1", tenant).encode(), halt.to_json()


def test_a_tenant_speaks_only_for_itself_in_its_own_held_topic(kafka: Cluster) -> None:
    ns = unique("halts").replace("-", "")
    own = naming.held_topic(ns, "grand")
    shared = naming.held_topic(ns, None)
    kafka.create_topic(own)
    kafka.create_topic(shared)
    kafka.produce(own, [_halt("ops", "zed"), _halt("ops", "grand")])
    kafka.produce(shared, [_halt("ops", "alpine")])

    halts = halted_tenants(kafka.config, ns, owners=[None, "grand"])

    assert sorted(h.tenant for h in halts) == ["alpine", "grand"]
