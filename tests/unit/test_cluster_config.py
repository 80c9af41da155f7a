"""The properties of one node of the local multi-node cluster: the single broker's text
with the node's own settings after it (Java's `Properties` keeps a repeated key's last
value, which is what these tests read back)."""

from pathlib import Path

import pytest

from frontdesk.broker.config import Ports, render_node


def _effective(text: str) -> dict[str, str]:
    """What `java.util.Properties.load` keeps: the last value of each key."""
    props: dict[str, str] = {}
    for raw in text.splitlines():
        line = raw.strip()
        if line and not line.startswith("#") and "=" in line:
            key, _, value = line.partition("=")
            props[key.strip()] = value.strip()
    return props


@pytest.mark.parametrize("secure", [False, True])
def test_node_is_a_voter_of_a_three_node_quorum(secure: bool) -> None:
    ports = Ports(client=21001, controller=21011, internal=21021 if secure else None)
    text = render_node(
        ports, Path("/data/node-2/kraft"), secure=secure, node_id=2,
        controllers={1: 21010, 2: 21011, 3: 21012},
        admin_password="0f2f2aa98de70b31" if secure else None,
    )  # fmt: skip
    props = _effective(text)
    assert props["node.id"] == "2"
    assert props["controller.quorum.voters"] == (
        "1@127.0.0.1:21010,2@127.0.0.1:21011,3@127.0.0.1:21012"
    )
    assert props["process.roles"] == "broker,controller"
    assert props["log.dirs"] == "/data/node-2/kraft"
    for key in ("offsets.topic.replication.factor", "transaction.state.log.replication.factor"):
        assert props[key] == "3"
    assert props["min.insync.replicas"] == "2"
    assert props["transaction.state.log.min.isr"] == "2"
    assert props["unclean.leader.election.enable"] == "false"
    assert "127.0.0.1:21011" in props["listeners"]
    if secure:
        assert props["inter.broker.listener.name"] == "INTERNAL"
        # every listener of every node requires SASL, the controller quorum's too
        assert props["listener.security.protocol.map"] == (
            "CLIENT:SASL_PLAINTEXT,INTERNAL:SASL_PLAINTEXT,CONTROLLER:SASL_PLAINTEXT"
        )
