"""The topology as code: queues, retry tiers, DLQs and tenants, declared in one YAML file."""

from frontdesk.topology.model import (
    ClusterSpec,
    QueueSpec,
    TenantMode,
    TenantSpec,
    TopicSpec,
    Topology,
    TopologyError,
    load_topology,
)

__all__ = [
    "ClusterSpec",
    "QueueSpec",
    "TenantMode",
    "TenantSpec",
    "TopicSpec",
    "Topology",
    "TopologyError",
    "load_topology",
]
