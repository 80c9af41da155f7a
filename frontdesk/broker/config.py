"""Render the embedded broker's ``server.properties``: plain, or SASL/SCRAM with ACLs."""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources
from pathlib import Path

ADMIN_USER = "admin"


@dataclass(frozen=True, slots=True)
class Ports:
    client: int
    controller: int
    internal: int | None = None  # secure mode only: the ANONYMOUS loopback listener


def render(ports: Ports, data_dir: Path, *, secure: bool) -> str:
    """The full properties text for one node; ``data_dir`` holds the log segments."""
    common = resources.files("frontdesk.broker").joinpath("server.properties").read_text()
    voters = f"controller.quorum.voters=1@127.0.0.1:{ports.controller}"
    if not secure:
        listeners = [
            "# Plain mode: one PLAINTEXT client listener.",
            f"listeners=PLAINTEXT://127.0.0.1:{ports.client},"
            f"CONTROLLER://127.0.0.1:{ports.controller}",
            f"advertised.listeners=PLAINTEXT://127.0.0.1:{ports.client}",
            "listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT",
            "inter.broker.listener.name=PLAINTEXT",
        ]
    else:
        assert ports.internal is not None
        listeners = [
            "# Secure mode: tenants and the admin use CLIENT (SASL/SCRAM-SHA-512). INTERNAL and",
            "# CONTROLLER are PLAINTEXT, loopback only, for the node's own traffic.",
            f"listeners=CLIENT://127.0.0.1:{ports.client},"
            f"INTERNAL://127.0.0.1:{ports.internal},CONTROLLER://127.0.0.1:{ports.controller}",
            f"advertised.listeners=CLIENT://127.0.0.1:{ports.client},"
            f"INTERNAL://127.0.0.1:{ports.internal}",
            "listener.security.protocol.map=CLIENT:SASL_PLAINTEXT,INTERNAL:PLAINTEXT,"
            "CONTROLLER:PLAINTEXT",
            "inter.broker.listener.name=INTERNAL",
            "sasl.enabled.mechanisms=SCRAM-SHA-512",
            "listener.name.client.sasl.enabled.mechanisms=SCRAM-SHA-512",
            "listener.name.client.scram-sha-512.sasl.jaas.config="
            "org.apache.kafka.common.security.scram.ScramLoginModule required;",
            "authorizer.class.name=org.apache.kafka.metadata.authorizer.StandardAuthorizer",
            "allow.everyone.if.no.acl.found=false",
            "# ANONYMOUS is the node itself on the loopback PLAINTEXT listeners (registration,",
            "# heartbeats); tenants never reach those listeners.",
            f"super.users=User:ANONYMOUS;User:{ADMIN_USER}",
        ]
    return "\n".join([voters, *listeners, f"log.dirs={data_dir}", "", common])


def render_node(
    ports: Ports,
    data_dir: Path,
    *,
    secure: bool,
    node_id: int,
    controllers: dict[int, int],
) -> str:
    """One node of a local multi-node cluster: the single-node text (same listeners, same
    security) followed by what differs. Java's ``Properties`` keeps the last value of a
    repeated key, so these lines override the single-node ones.

    ``controllers`` maps every node id to its controller port: each node is a voter of a
    static quorum (``controller.quorum.voters``), formatted with one cluster id.
    """
    voters = ",".join(f"{i}@127.0.0.1:{port}" for i, port in sorted(controllers.items()))
    replicas = len(controllers)
    min_isr = max(1, min(2, replicas - 1))
    overrides = [
        "",
        f"# Node {node_id} of a local {replicas}-node cluster (frontdesk.broker.cluster).",
        f"node.id={node_id}",
        f"controller.quorum.voters={voters}",
        f"offsets.topic.replication.factor={replicas}",
        f"transaction.state.log.replication.factor={replicas}",
        f"transaction.state.log.min.isr={min_isr}",
        f"share.coordinator.state.topic.replication.factor={replicas}",
        f"share.coordinator.state.topic.min.isr={min_isr}",
        f"default.replication.factor={replicas}",
        f"min.insync.replicas={min_isr}",
        "unclean.leader.election.enable=false",
        # A crashed node is fenced and its leaderships moved after 6 s (default 9 s).
        "broker.heartbeat.interval.ms=1000",
        "broker.session.timeout.ms=6000",
        # Leadership moves back to the preferred replica soon after a node returns.
        "leader.imbalance.check.interval.seconds=10",
    ]
    return render(ports, data_dir, secure=secure) + "\n".join(overrides) + "\n"
