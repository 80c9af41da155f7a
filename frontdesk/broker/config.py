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
    internal: int | None = None  # secure mode only: the inter-broker listener (SASL too)


def render(ports: Ports, data_dir: Path, *, secure: bool, admin_password: str | None = None) -> str:
    """The full properties text for one node; ``data_dir`` holds the log segments.

    ``admin_password`` (secure mode) is the credential the node itself presents on its
    inter-broker and controller listeners: the text then holds a secret, keep it 0600.
    """
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
        if not admin_password:
            raise ValueError("secure mode needs the admin password for the node's own listeners")
        listeners = _secure_listeners(ports, admin_password)
    return "\n".join([voters, *listeners, f"log.dirs={data_dir}", "", common])


def _jaas(module: str, **options: str) -> str:
    """A JAAS line; values are hex or alphanumeric (the admin name, a token_hex password)."""
    for value in options.values():
        if not value.replace("_", "").isalnum():
            raise ValueError("JAAS option values must be alphanumeric")
    return " ".join([module, "required", *(f'{k}="{v}"' for k, v in options.items())]) + ";"


def _secure_listeners(ports: Ports, password: str) -> list[str]:
    """Every listener authenticates: no port of the node lets an anonymous client in.

    CLIENT and INTERNAL use SCRAM-SHA-512 (the admin credential is bootstrapped at format
    time with ``--add-scram``). The KRaft controller cannot use SCRAM (its credentials live
    in the metadata log the controller serves), so CONTROLLER uses SASL/PLAIN with one
    static user, the admin, declared in its JAAS line. The node authenticates as the admin
    on both of its own listeners, so ANONYMOUS is no super user and holds no ACL.
    """
    scram = "org.apache.kafka.common.security.scram.ScramLoginModule"
    plain = "org.apache.kafka.common.security.plain.PlainLoginModule"
    user = ADMIN_USER
    return [
        "# Secure mode: every listener requires SASL. Tenants and the admin use CLIENT",
        "# (SCRAM-SHA-512); the node itself uses INTERNAL (SCRAM-SHA-512) and CONTROLLER",
        "# (PLAIN, static admin user), both as the admin.",
        f"listeners=CLIENT://127.0.0.1:{ports.client},"
        f"INTERNAL://127.0.0.1:{ports.internal},CONTROLLER://127.0.0.1:{ports.controller}",
        f"advertised.listeners=CLIENT://127.0.0.1:{ports.client},"
        f"INTERNAL://127.0.0.1:{ports.internal}",
        "listener.security.protocol.map=CLIENT:SASL_PLAINTEXT,INTERNAL:SASL_PLAINTEXT,"
        "CONTROLLER:SASL_PLAINTEXT",
        "inter.broker.listener.name=INTERNAL",
        "sasl.enabled.mechanisms=SCRAM-SHA-512",
        "sasl.mechanism.inter.broker.protocol=SCRAM-SHA-512",
        "sasl.mechanism.controller.protocol=PLAIN",
        "listener.name.client.sasl.enabled.mechanisms=SCRAM-SHA-512",
        f"listener.name.client.scram-sha-512.sasl.jaas.config={_jaas(scram)}",
        "listener.name.internal.sasl.enabled.mechanisms=SCRAM-SHA-512",
        "listener.name.internal.scram-sha-512.sasl.jaas.config="
        + _jaas(scram, username=user, password=password),
        "listener.name.controller.sasl.enabled.mechanisms=PLAIN",
        "listener.name.controller.plain.sasl.jaas.config="
        + _jaas(plain, username=user, password=password, **{f"user_{user}": password}),
        "authorizer.class.name=org.apache.kafka.metadata.authorizer.StandardAuthorizer",
        "allow.everyone.if.no.acl.found=false",
        f"super.users=User:{user}",
    ]


def render_node(
    ports: Ports,
    data_dir: Path,
    *,
    secure: bool,
    node_id: int,
    controllers: dict[int, int],
    admin_password: str | None = None,
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
    single = render(ports, data_dir, secure=secure, admin_password=admin_password)
    return single + "\n".join(overrides) + "\n"
