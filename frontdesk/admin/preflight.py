"""Check a whole ``topics apply`` before any of it runs, so that it applies all or nothing.

Kafka has no transaction across topic creations, config changes, ACLs and quotas. Apply
used to run them in turn and stop at the first refusal, leaving 54 topics created and no
ACL granted. Instead, every part is first put to the broker with ``validate_only`` (topic
creations, partition increases, config changes, quotas) or checked here (tenant ids, ACL
principals, which the broker cannot validate without creating), and any problem stops the
apply before it changes anything. Every problem is reported, not only the first.
"""

from __future__ import annotations

from typing import Any

from confluent_kafka.admin import AdminClient

from frontdesk import naming
from frontdesk.admin.acls import AclPlan, validate_acls
from frontdesk.admin.quotas import QuotaPlan, validate_quotas
from frontdesk.admin.topics import TopicPlan, validate_topics
from frontdesk.errors import FrontdeskError
from frontdesk.topology import Topology


class PreflightError(FrontdeskError):
    """The apply would fail somewhere; nothing was changed. ``problems`` lists every cause."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__(
            f"nothing applied: {len(problems)} problem(s) found before any change:\n  "
            + "\n  ".join(problems)
        )
        self.problems = problems


def preflight(
    admin: AdminClient,
    config: dict[str, Any],
    topology: Topology,
    *,
    topics: TopicPlan,
    acls: AclPlan,
    quotas: QuotaPlan,
) -> list[str]:
    """Every reason applying these plans would fail, found without changing the cluster."""
    problems = []
    for index, tenant in enumerate(topology.tenants):
        try:
            naming.validate_tenant_id(tenant.id)
        except ValueError as exc:
            problems.append(f"tenants.{index}.id: {exc}")
    problems += validate_topics(admin, topics)
    problems += validate_acls(acls)
    problems += validate_quotas(config, quotas)
    return problems
