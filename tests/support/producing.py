"""Helpers for producer-side tests: a throwaway topology on the real broker, sample events."""

from __future__ import annotations

import time
from datetime import date
from decimal import Decimal
from typing import Any

from confluent_kafka import KafkaException
from confluent_kafka.admin import NewTopic

from frontdesk.events import BookingCreated, BookingStatus, Channel
from frontdesk.queues import QueueType
from frontdesk.topology import Topology
from frontdesk.topology.model import parse_topology
from tests.support.kafka import Cluster, unique

DEDICATED = "vip"

TOPOLOGY = """
cluster: {{namespace: {ns}}}
queues:
  operational: {{partitions: {partitions}}}
  automation: {{partitions: {partitions}}}
  sync: {{partitions: {partitions}}}
  fallback: {{partitions: 1}}
tenants:
  - {{id: {dedicated}, mode: dedicated}}
"""


def topology(prefix: str = "prod", partitions: int = 3) -> Topology:
    """A topology in a fresh namespace (nothing created yet)."""
    text = TOPOLOGY.format(ns=unique(prefix), partitions=partitions, dedicated=DEDICATED)
    return parse_topology(text)


def create_main_topics(kafka: Cluster, topo: Topology) -> list[str]:
    """Create every main topic of `topo` (retry tiers and DLQs are not needed to produce)."""
    specs = {s.name: s for s in topo.topics()}
    names = [name for q in QueueType for name in topo.main_topics(q)]
    futures = kafka.admin.create_topics(
        [NewTopic(n, num_partitions=specs[n].partitions, replication_factor=1) for n in names]
    )
    for future in futures.values():
        future.result(timeout=30)
    wait_for_leaders(kafka, names)
    return names


def wait_for_leaders(kafka: Cluster, names: list[str], timeout: float = 30.0) -> None:
    """Return once every partition of `names` answers offset queries (a leader is elected)."""
    deadline = time.monotonic() + timeout
    pending = list(names)
    while pending:
        try:
            kafka.end_offsets(pending[0])
            pending.pop(0)
        except KafkaException:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)


def booking(tenant: str = "acme", prop: str = "p1", n: int = 0, **extra: Any) -> BookingCreated:
    fields: dict[str, Any] = {
        "booking_id": f"B-{n}",
        "room_type_id": "DBL",
        "guest_id": f"G-{n}",
        "guest_name": "Ana Silva",
        "arrival": date(2025, 7, 1),
        "departure": date(2025, 7, 4),
        "adults": 2,
        "children": 0,
        "channel": Channel.BOOKING_COM,
        "status": BookingStatus.CONFIRMED,
        "total_amount": Decimal("412.50"),
        "currency": "EUR",
    }
    fields.update(extra)
    return BookingCreated.new(tenant_id=tenant, property_id=prop, **fields)
