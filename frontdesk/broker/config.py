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
