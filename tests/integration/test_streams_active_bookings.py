"""faust-streaming runs against our Kafka 4.x broker: the active-bookings projection.

Contract: the faust worker (a subprocess, as faust itself recommends) starts against the
broker, its table's changelog ends up equal to a recount of the input events, and an
undecodable record goes to the DLQ with its reason instead of being skipped. This is also
the smoke test that keeps Kafka 4.4 (rather than 3.9) as our broker version.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from datetime import date
from decimal import Decimal
from pathlib import Path

from frontdesk import codec, headers
from frontdesk.admin.topics import apply_topics, plan_topics
from frontdesk.events import (
    BookingCancelled,
    BookingCreated,
    BookingStatus,
    CancellationParty,
    Channel,
    Event,
)
from frontdesk.topology import load_topology
from tests.support.kafka import Cluster, unique

REPO = Path(__file__).resolve().parents[2]


def _created(tenant: str, prop: str, booking: str) -> BookingCreated:
    return BookingCreated.new(
        tenant_id=tenant, property_id=prop, booking_id=booking, room_type_id="DBL",
        guest_id="G-1", guest_name="Ana Silva", arrival=date(2026, 7, 1),
        departure=date(2026, 7, 4), adults=2, children=0, channel=Channel.DIRECT,
        status=BookingStatus.CONFIRMED, total_amount=Decimal("412.50"), currency="EUR",
    )  # fmt: skip


def _cancelled(cause: BookingCreated) -> BookingCancelled:
    return BookingCancelled.new(
        cause=cause, booking_id=cause.booking_id, cancelled_by=CancellationParty.GUEST,
        cancellation_fee=Decimal("0.00"), currency="EUR",
    )  # fmt: skip


def _record(event: Event) -> tuple[str, bytes, list[tuple[str, bytes]]]:
    envelope = [
        (headers.TENANT, event.meta.tenant_id.encode()),
        (headers.EVENT_ID, str(event.meta.event_id).encode()),
    ]
    return event.key, codec.encode(event), envelope


def test_projection_matches_a_recount_and_dead_letters_poison(
    kafka: Cluster, tmp_path: Path
) -> None:
    ns = unique("streams")
    topo_file = tmp_path / "topology.yaml"
    topo_file.write_text(
        f"cluster: {{namespace: {ns}}}\n"
        "queues: {operational: {partitions: 2}, automation: {partitions: 1},"
        " sync: {partitions: 1}, fallback: {partitions: 1}}\n"
    )
    topology = load_topology(topo_file)
    apply_topics(kafka.admin, plan_topics(kafka.admin, topology))
    source = f"{ns}.pms.operational"

    events: list[Event] = []
    expected: dict[str, int] = {}
    for p in range(4):
        prop = f"p{p}"
        for b in range(5):
            created = _created("seaside", prop, f"B-{p}-{b}")
            events.append(created)
            if b % 2 == 0:
                events.append(_cancelled(created))
        expected[f"seaside/{prop}"] = 2  # bookings 1 and 3 stay active

    env = {**os.environ, **kafka.env(), "FRONTDESK_TOPOLOGY": str(topo_file)}
    log = tmp_path / "faust.log"
    with log.open("wb") as out:
        worker = subprocess.Popen(
            [sys.executable, "-m", "faust", "-A", "streams.active_bookings",
             "--datadir", str(tmp_path / "faust-data"), "worker", "--without-web", "-l", "info"],
            cwd=REPO, env=env, stdout=out, stderr=subprocess.STDOUT,
        )  # fmt: skip
    try:
        deadline = time.monotonic() + 120
        while b"Worker ready" not in log.read_bytes():
            assert worker.poll() is None, log.read_text()[-3000:]
            assert time.monotonic() < deadline, "faust worker not ready in 120 s"
            time.sleep(0.5)

        producer = kafka.producer()
        for key, value, hdrs in map(_record, events):
            producer.produce(source, key=key, value=value, headers=hdrs)
        producer.produce(source, key=b"seaside/p0", value=b"not avro at all")
        assert producer.flush(30) == 0

        changelog = f"{ns}.frontdesk.streams.active-bookings-bookings-by-property-changelog"
        latest: dict[str, dict[str, str]] = {}
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            latest = {}
            for msg in kafka.drain(changelog, timeout=5):
                latest[json.loads(msg.key())] = json.loads(msg.value())
            counts = {k: sum(1 for s in v.values() if s == "active") for k, v in latest.items()}
            if counts == expected:
                break
            time.sleep(1)
        counts = {k: sum(1 for s in v.values() if s == "active") for k, v in latest.items()}
        assert counts == expected, log.read_text()[-3000:]

        dead = kafka.drain(f"{source}.dlq", expected=1)
        assert [m.value() for m in dead] == [b"not avro at all"]
        assert headers.get(dead[0].headers(), headers.REASON) == "bad_magic"
    finally:
        worker.send_signal(signal.SIGTERM)
        try:
            worker.wait(30)
        except subprocess.TimeoutExpired:
            worker.kill()
            worker.wait()
