"""Dead letters for tests, in the format the worker runtime writes them.

The runtime dead-letters the original key and value bytes untouched and adds failure
headers (`frontdesk.headers`). Until it lands, tests build those records here, and
`seed` produces them and returns their dead-letter ids from the delivery reports.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import yaml
from typer.testing import CliRunner, Result

from frontdesk import headers as hdr
from frontdesk.admin.topics import apply_topics, plan_topics
from frontdesk.cli.main import app as cli_app
from frontdesk.codec import encode
from frontdesk.dlq import DeadLetter, DeadLetterId
from frontdesk.events import BookingCreated, BookingStatus, Channel
from frontdesk.topology import Topology
from frontdesk.topology.model import parse_topology
from tests.support.kafka import Cluster

TOPOLOGY = """
cluster: {{namespace: {ns}}}
queues:
  operational: {{partitions: 2, retry: {{tiers: [10s, 1m]}}}}
  automation: {{partitions: 1, retry: {{tiers: [10s]}}}}
  sync: {{partitions: 1, retry: {{tiers: [10s]}}}}
  fallback: {{partitions: 1, retry: {{tiers: [1m]}}}}
tenants:
  - {{id: grand, mode: dedicated, partitions: 1}}
"""


def topology(ns: str) -> Topology:
    """Pooled tenants plus one dedicated tenant ``grand``, in namespace ``ns``."""
    return parse_topology(TOPOLOGY.format(ns=ns))


def apply(cluster: Cluster, ns: str) -> Topology:
    topo = topology(ns)
    apply_topics(cluster.admin, plan_topics(cluster.admin, topo))
    return topo


def booking(tenant: str, property_id: str = "p1", booking_id: str = "B-1") -> BookingCreated:
    return BookingCreated.new(
        tenant_id=tenant,
        property_id=property_id,
        booking_id=booking_id,
        room_type_id="DBL",
        guest_id="G-1",
        guest_name="Ana Silva",
        arrival=date(2025, 7, 1),
        departure=date(2025, 7, 4),
        adults=2,
        children=0,
        channel=Channel.BOOKING_COM,
        status=BookingStatus.CONFIRMED,
        total_amount=Decimal("412.50"),
        currency="EUR",
    )


@dataclass
class Letter:
    """One DLQ record to produce: key, value and headers exactly as the runtime writes them."""

    key: bytes | None
    value: bytes
    headers: list[tuple[str, bytes]] = field(default_factory=list)


def letter(
    original_topic: str,
    *,
    tenant: str = "acme",
    property_id: str = "p1",
    value: bytes | None = None,
    event_type: str = "BookingCreated",
    reason: str = "retries_exhausted",
    error_class: str = "builtins.ValueError",
    error_message: str = "the channel manager said no",
    attempt: int = 5,
    original_offset: int = 0,
    header_tenant: str | None = None,
) -> Letter:
    """A dead letter of a BookingCreated (or of raw ``value`` bytes) of ``tenant``."""
    event = booking(tenant, property_id, booking_id=f"B-{uuid.uuid4().hex[:6]}")
    ms = str(int(datetime.now(UTC).timestamp() * 1000))
    trace_id = uuid.uuid4().hex
    headers = {
        hdr.TENANT: header_tenant or tenant,
        hdr.EVENT_TYPE: event_type,
        hdr.EVENT_ID: str(event.meta.event_id),
        hdr.TRACEPARENT: f"00-{trace_id}-{uuid.uuid4().hex[:16]}-01",
        hdr.ATTEMPT: str(attempt),
        hdr.ORIGINAL_TOPIC: original_topic,
        hdr.ORIGINAL_PARTITION: "0",
        hdr.ORIGINAL_OFFSET: str(original_offset),
        hdr.ORIGINAL_TIMESTAMP: ms,
        hdr.FIRST_FAILURE_AT: ms,
        hdr.LAST_FAILURE_AT: ms,
        hdr.DEAD_LETTERED_AT: ms,
        hdr.ERROR_CLASS: error_class,
        hdr.ERROR_MESSAGE: error_message,
        hdr.STACK_TRACE: f"Traceback (most recent call last):\n  File 'h.py'\n{error_class}: x",
        hdr.REASON: reason,
        hdr.WORKER_ID: "worker-1",
        hdr.TRACE_ID: trace_id,
    }
    return Letter(
        key=f"{tenant}/{property_id}".encode(),
        value=encode(event) if value is None else value,
        headers=[(k, v.encode()) for k, v in headers.items()],
    )


def seed(cluster: Cluster, topic: str, letters: list[Letter]) -> list[DeadLetterId]:
    """Produce ``letters`` to ``topic``; their ids in the same order, from delivery reports."""
    producer = cluster.producer()
    ids: list[DeadLetterId | None] = [None] * len(letters)

    def delivered(index: int) -> Callable[[Any, Any], None]:
        def report(err: Any, msg: Any) -> None:
            assert err is None, err
            ids[index] = DeadLetterId(msg.topic(), msg.partition(), msg.offset())

        return report

    for index, one in enumerate(letters):
        producer.produce(
            topic, key=one.key, value=one.value, headers=one.headers, on_delivery=delivered(index)
        )
    assert producer.flush(30) == 0
    assert all(i is not None for i in ids)
    return [i for i in ids if i is not None]


def dead_letter(
    original_topic: str = "ns.pms.operational",
    offset: int = 0,
    at: datetime | None = None,
    namespace: str | None = "ns",
    **kwargs: Any,
) -> DeadLetter:
    """A `DeadLetter` as `list` would return it, without a broker (for unit tests): it sits
    in ``<original_topic>.dlq`` of ``namespace``."""
    one = letter(original_topic, **kwargs)
    return DeadLetter(
        DeadLetterId(f"{original_topic}.dlq", 0, offset),
        at or datetime.now(UTC),
        one.key,
        one.value,
        tuple(one.headers),
        namespace,
    )


def write_topology(topology: Topology, path: Path) -> Path:
    """The topology as a YAML file, as ``FRONTDESK_TOPOLOGY`` names it."""
    path.write_text(yaml.safe_dump(topology.model_dump(mode="json", exclude_none=True)))
    return path


def frontdesk(cluster: Cluster, topo: Topology, tmp_path: Path, *args: str, **kw: Any) -> Result:
    """``frontdesk <args>`` in-process against ``cluster``, with ``topo`` written to a file
    as an operator would have it; an uncaught exception fails the test."""
    path = write_topology(topo, tmp_path / "topology.yaml")
    env = {**cluster.env(), "FRONTDESK_TOPOLOGY": str(path), "USER": "ana"}
    return CliRunner().invoke(cli_app, list(args), env=env, catch_exceptions=False, **kw)


def cli(cluster: Cluster, topo: Topology, tmp_path: Path, *args: str, **kw: Any) -> Result:
    """``frontdesk dlq <args>``, as `frontdesk` runs it."""
    return frontdesk(cluster, topo, tmp_path, "dlq", *args, **kw)
