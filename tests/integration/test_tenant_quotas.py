"""Dedicated tenants get the client quotas the topology declares, and only those.

Contract: `plan_quotas` compares the broker's quotas for each dedicated tenant's user with
the topology; `apply_quotas` sets new values and removes keys no longer declared; a second
plan is empty.
"""

from __future__ import annotations

from frontdesk.admin.quotas import apply_quotas, plan_quotas
from frontdesk.topology import Topology
from frontdesk.topology.model import parse_topology
from tests.support.kafka import Cluster, unique

TOPOLOGY = """
queues: {{operational: {{}}, automation: {{}}, sync: {{}}, fallback: {{}}}}
tenants:
  - id: {t}
    mode: dedicated
    principal: "User:{t}"
    quotas: {quotas}
"""


def test_quotas_are_set_changed_and_removed(kafka: Cluster) -> None:
    tenant = unique("q")

    def topology(quotas: str) -> Topology:
        return parse_topology(TOPOLOGY.format(t=tenant, quotas=quotas))

    first = topology("{producer_byte_rate: 1048576, request_percentage: 25.5}")
    plan = plan_quotas(kafka.config, first)
    assert sorted((c.key, c.current, c.wanted) for c in plan.changes) == [
        ("producer_byte_rate", None, 1048576.0),
        ("request_percentage", None, 25.5),
    ]
    apply_quotas(kafka.config, plan)
    assert plan_quotas(kafka.config, first).empty

    second = topology("{producer_byte_rate: 2097152}")
    plan = plan_quotas(kafka.config, second)
    assert sorted((c.key, c.current, c.wanted) for c in plan.changes) == [
        ("producer_byte_rate", 1048576.0, 2097152.0),
        ("request_percentage", 25.5, None),
    ]
    apply_quotas(kafka.config, plan)
    assert plan_quotas(kafka.config, second).empty
