"""Prefixed ACLs for dedicated tenants: exactly what the topology grants, nothing else.

Each dedicated tenant's principal may read and write the topics, join the groups and use
the transactional ids under ``tenant.<id>.`` and nowhere else, and may read (not write) the
schemas topic ``<ns.>frontdesk.schemas``: its consumers look writer schemas up there, and
only the platform's principals publish them, because a schema is trusted by its CRC-64
fingerprint, which someone with write access could forge
(frontdesk/contracts/schemas_topic.py). The topology owns the ACLs of the principals it
names: grants it does not declare are revoked on apply.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum

from confluent_kafka.admin import AdminClient
from confluent_kafka.admin._acl import (
    AclBinding,
    AclBindingFilter,
    AclOperation,
    AclPermissionType,
)
from confluent_kafka.admin._config import ConfigResource
from confluent_kafka.admin._resource import ResourcePatternType, ResourceType

from frontdesk.admin.waiting import wait_until
from frontdesk.topology import Topology
from frontdesk.topology.model import validate_principal

_TIMEOUT = 30.0

_GRANTS: dict[ResourceType, tuple[AclOperation, ...]] = {
    ResourceType.TOPIC: (AclOperation.READ, AclOperation.WRITE, AclOperation.DESCRIBE),
    ResourceType.GROUP: (AclOperation.READ, AclOperation.DESCRIBE),
    ResourceType.TRANSACTIONAL_ID: (AclOperation.WRITE, AclOperation.DESCRIBE),
}

_SCHEMAS_GRANTS = (AclOperation.READ, AclOperation.DESCRIBE)
"""What every tenant principal may do on the schemas topic: read, never write."""

AclKey = tuple[str, str, str, str, str, str]


def _name(value: Enum | str | int) -> str:
    return value.name if isinstance(value, Enum) else str(value)


def _key(binding: AclBinding) -> AclKey:
    return (
        _name(binding.restype),
        binding.name,
        _name(binding.resource_pattern_type),
        binding.principal,
        _name(binding.operation),
        _name(binding.permission_type),
    )


@dataclass(slots=True)
class AclPlan:
    grant: list[AclBinding] = field(default_factory=list)
    revoke: list[AclBinding] = field(default_factory=list)
    supported: bool = True
    """False when the cluster has no authorizer (nothing to plan)."""

    @property
    def empty(self) -> bool:
        return not self.grant and not self.revoke

    def describe(self) -> list[str]:
        def line(verb: str, b: AclBinding) -> str:
            return (
                f"{verb} {b.principal} {_name(b.operation)} on {_name(b.restype)} "
                f"{_name(b.resource_pattern_type).lower()} '{b.name}'"
            )

        return [line("grant", b) for b in self.grant] + [line("revoke", b) for b in self.revoke]


def desired_acls(topology: Topology) -> list[AclBinding]:
    bindings = []
    for tenant in topology.dedicated_tenants():
        if tenant.principal is None:
            continue
        prefix = topology.tenant_prefix(tenant.id)
        for restype, operations in _GRANTS.items():
            for operation in operations:
                bindings.append(
                    AclBinding(
                        restype,
                        prefix,
                        ResourcePatternType.PREFIXED,
                        tenant.principal,
                        "*",
                        operation,
                        AclPermissionType.ALLOW,
                    )
                )
        for operation in _SCHEMAS_GRANTS:
            bindings.append(
                AclBinding(
                    ResourceType.TOPIC,
                    topology.schemas_topic().name,
                    ResourcePatternType.LITERAL,
                    tenant.principal,
                    "*",
                    operation,
                    AclPermissionType.ALLOW,
                )
            )
    return bindings


def _current_acls(admin: AdminClient, principal: str) -> list[AclBinding]:
    acl_filter = AclBindingFilter(
        ResourceType.ANY,
        None,  # type: ignore[arg-type]  # None matches any name; the stubs say str
        ResourcePatternType.ANY,
        principal,
        None,  # type: ignore[arg-type]  # any host
        AclOperation.ANY,
        AclPermissionType.ANY,
    )
    result: list[AclBinding] = admin.describe_acls(acl_filter).result(timeout=_TIMEOUT)
    return result


def has_authorizer(admin: AdminClient) -> bool:
    """Whether the cluster enforces ACLs (its brokers name an ``authorizer.class.name``).

    Asked of the broker config because ``describe_acls`` answers an empty list, not an
    error, on a cluster without an authorizer.
    """
    cluster = admin.describe_cluster().result(timeout=_TIMEOUT)
    node = cluster.nodes[0]
    resource = ConfigResource("BROKER", str(node.id))
    entries = admin.describe_configs([resource])[resource].result(timeout=_TIMEOUT)
    entry = entries.get("authorizer.class.name")
    return bool(entry is not None and entry.value)


def plan_acls(admin: AdminClient, topology: Topology) -> AclPlan:
    desired = desired_acls(topology)
    if not desired:
        return AclPlan()
    if not has_authorizer(admin):
        return AclPlan(supported=False)
    principals = sorted({b.principal for b in desired})
    current = [b for p in principals for b in _current_acls(admin, p)]
    have = {_key(b): b for b in current}
    want = {_key(b): b for b in desired}
    return AclPlan(
        grant=[b for k, b in want.items() if k not in have],
        revoke=[b for k, b in have.items() if k not in want],
    )


def validate_acls(plan: AclPlan) -> list[str]:
    """Problems in the bindings ``plan`` would create (the broker has no validate-only ACL
    request): each grant goes to one tenant's own principal, on a prefix ending in ``.``."""
    problems = []
    for binding in plan.grant:
        try:
            validate_principal(binding.principal)
        except ValueError as exc:
            problems.append(f"acl on '{binding.name}': {exc}")
        if binding.resource_pattern_type is ResourcePatternType.PREFIXED and not (
            binding.name.endswith(".") and len(binding.name) > 1
        ):
            problems.append(f"acl for {binding.principal}: prefix {binding.name!r} must end in '.'")
    return problems


def apply_acls(admin: AdminClient, plan: AclPlan) -> None:
    if plan.grant:
        for future in admin.create_acls(plan.grant).values():
            future.result(timeout=_TIMEOUT)
    if plan.revoke:
        filters = [
            AclBindingFilter(
                b.restype,
                b.name,
                b.resource_pattern_type,
                b.principal,
                b.host,
                b.operation,
                b.permission_type,
            )
            for b in plan.revoke
        ]
        for future in admin.delete_acls(filters).values():
            future.result(timeout=_TIMEOUT)
    _await_acls(admin, plan)


def _await_acls(admin: AdminClient, plan: AclPlan) -> None:
    """Return once the authorizer reports the change; ACLs propagate asynchronously, and a
    tenant client started right after ``apply`` would otherwise be refused."""
    principals = sorted({b.principal for b in plan.grant + plan.revoke})
    granted = {_key(b) for b in plan.grant}
    revoked = {_key(b) for b in plan.revoke}

    def missing() -> str | None:
        have = {_key(b) for p in principals for b in _current_acls(admin, p)}
        if granted <= have and not (revoked & have):
            return None
        return f"the authorizer did not report the ACL change within {_TIMEOUT:.0f} s"

    if principals:
        wait_until(missing, timeout=_TIMEOUT)
