"""Hand-offs that would not fit their topic become ``too_large`` dead letters that do
(`frontdesk.worker.handoff.fitted`), whatever the key, payload and headers weigh."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from frontdesk import headers
from frontdesk.topology.model import (
    BROKER_MAX_MESSAGE_BYTES,
    HANDOFF_HEADROOM_BYTES,
    parse_topology,
)
from frontdesk.worker.handoff import Forward, fitted, record_size

MAIN = "ns.pms.operational"
LIMIT = 64 * 1024


@pytest.mark.fuzz
@given(
    kind=st.sampled_from(["retry", "dlq", "park", "divert"]),
    key=st.one_of(st.none(), st.binary(max_size=4096)),
    value=st.one_of(st.none(), st.integers(0, 200_000).map(lambda n: b"v" * n)),
    extra=st.lists(
        st.tuples(
            st.one_of(st.sampled_from(sorted(headers.RUNTIME)), st.text(max_size=3000)),
            st.integers(0, 20_000).map(lambda n: b"h" * n),
        ),
        max_size=8,
    ),
)
def test_what_is_forwarded_always_fits(
    kind: str, key: bytes | None, value: bytes | None, extra: list[tuple[str, bytes]]
) -> None:
    topic = {
        "retry": f"{MAIN}.retry.1s",
        "dlq": f"{MAIN}.dlq",
        "park": f"{MAIN}.parked",
        "divert": "ns.pms.fallback",
    }[kind]
    hdrs = [(headers.ORIGINAL_TOPIC, MAIN.encode()), (headers.DIVERTED_FROM, MAIN.encode())]
    dlq = f"{MAIN}.dlq" if kind == "divert" else None
    # The runtime's own headers replace a producer's (they come last; the last one wins).
    forward = Forward(topic, key, value, [*extra, *hdrs], kind, "r", dlq)
    out = fitted(forward, LIMIT, 1)
    assert record_size(out.key, out.value, out.headers) <= LIMIT
    if out is not forward:
        assert out.kind == "dlq"
        assert out.reason == "too_large"
        assert out.topic == f"{MAIN}.dlq", "the dead letter goes to its main topic's DLQ"
        assert out.value is None
        if value:
            assert headers.get(out.headers, headers.DROPPED_BYTES) == str(len(value))
        assert headers.get(out.headers, headers.ORIGINAL_TOPIC) == MAIN


def test_a_forward_that_fits_is_left_alone() -> None:
    forward = Forward(f"{MAIN}.retry.1s", b"acme/p1", b"x" * 100, [], "retry", "1s")
    assert fitted(forward, LIMIT, 1) is forward


def test_handoff_topics_take_more_than_their_main_topics() -> None:
    topology = parse_topology(
        """
cluster: {namespace: ns}
queues:
  operational: {partitions: 1, config: {max.message.bytes: "2000000"}}
  automation: {partitions: 1}
  sync: {partitions: 1}
  fallback: {partitions: 1}
"""
    )
    limits = topology.max_message_bytes()
    assert limits[MAIN] == 2_000_000
    for suffix in (".dlq", ".parked", ".retry.10s"):
        assert limits[MAIN + suffix] == 2_000_000 + HANDOFF_HEADROOM_BYTES
    assert limits["ns.pms.automation"] == BROKER_MAX_MESSAGE_BYTES
    assert limits["ns.pms.automation.dlq"] == BROKER_MAX_MESSAGE_BYTES + HANDOFF_HEADROOM_BYTES
    # Every queue may divert to the fallback queue: it takes the largest main's records.
    assert limits["ns.pms.fallback"] == 2_000_000 + HANDOFF_HEADROOM_BYTES
    assert limits["ns.pms.fallback.dlq"] == 2_000_000 + 2 * HANDOFF_HEADROOM_BYTES
