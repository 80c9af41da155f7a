"""The topology as code: queues, retry tiers, DLQs and tenants, declared in one YAML file."""

from frontdesk.topology.model import (
    ClusterSpec,
    QueueSpec,
    TenantMode,
    TenantSpec,
    TopicSpec,
    Topology,
    TopologyError,
    audit_spec,
    dlq_state_spec,
    held_spec,
    load_topology,
    state_specs,
)

__all__ = [
    "ClusterSpec",
    "QueueSpec",
    "TenantMode",
    "TenantSpec",
    "TopicSpec",
    "Topology",
    "TopologyError",
    "audit_spec",
    "dlq_state_spec",
    "held_spec",
    "load_topology",
    "state_specs",
]
