"""The event streams of the reliability scenarios: planned up front, produced at a pace.

`plan` builds a deterministic stream (seeded): which key each event has, its position in
its key's production order (``seq``), whether its type is ordered, and its kind (``ok``,
``flaky``, ``dep``; see `tests.reliability.app`). `PacedProducer` sends a plan with the
producer SDK from a thread at a steady rate, keeping every delivery handle, so a scenario
can inject faults while events are still being produced and, at the end, require Kafka's
confirmation for every one of them.
"""

from __future__ import annotations

import contextlib
import random
import threading
import time
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from frontdesk.errors import DeliveryError
from frontdesk.events import (
    BookingCreated,
    BookingModified,
    BookingStatus,
    Channel,
    Event,
    MaintenanceCategory,
    MaintenancePriority,
    MaintenanceRequested,
)
from frontdesk.producer import Delivery, Producer
from frontdesk.topology import Topology

TENANTS = ("acme", "globex")


@dataclass(frozen=True, slots=True)
class Planned:
    """One event of a plan and what the scenario expects of it."""

    event: Event
    event_id: str
    key: str
    seq: int
    """Position among its key's events of the same orderedness, in production order."""
    kind: str
    ordered: bool


def _booking(cls: type[BookingCreated] | type[BookingModified], ref: str, **ids: Any) -> Event:
    fields: dict[str, Any] = {
        "booking_id": ref,
        "room_type_id": "DBL",
        "arrival": date(2025, 7, 1),
        "departure": date(2025, 7, 4),
        "adults": 2,
        "children": 0,
        "total_amount": Decimal("412.50"),
        "currency": "EUR",
    }
    if cls is BookingCreated:
        fields.update(
            guest_id="G-1",
            guest_name="Ana Silva",
            channel=Channel.DIRECT,
            status=BookingStatus.CONFIRMED,
        )
    return cls.new(**ids, **fields)


def _maintenance(ref: str, **ids: Any) -> Event:
    return MaintenanceRequested.new(
        **ids,
        request_id=ref,
        category=MaintenanceCategory.PLUMBING,
        priority=MaintenancePriority.NORMAL,
        description="dripping tap",
        reported_by="staff-1",
        blocks_unit=False,
    )


def plan(
    count: int,
    *,
    keys: int,
    seed: int,
    flaky: float = 0.0,
    dep: float = 0.0,
    unordered: float = 0.0,
    key_offset: int = 0,
) -> list[Planned]:
    """``count`` events over ``keys`` properties (two pooled tenants), shuffled per event.

    ``flaky``/``dep``/``unordered`` are the shares of events that fail their first attempt,
    that need the fake dependency, and that are of an unordered type (MaintenanceRequested;
    the rest are BookingCreated and BookingModified, both ordered).
    """
    rng = random.Random(seed)
    counters: dict[tuple[str, bool], int] = {}
    out: list[Planned] = []
    for _ in range(count):
        k = key_offset + rng.randrange(keys)
        ids = {"tenant_id": TENANTS[k % len(TENANTS)], "property_id": f"p{k}"}
        key = f"{ids['tenant_id']}/{ids['property_id']}"
        roll = rng.random()
        kind = "flaky" if roll < flaky else "dep" if roll < flaky + dep else "ok"
        ordered = rng.random() >= unordered
        seq = counters.get((key, ordered), 0)
        counters[(key, ordered)] = seq + 1
        ref = f"{kind}.{k}.{seq}"
        if not ordered:
            event = _maintenance(ref, **ids)
        elif rng.random() < 0.7:
            event = _booking(BookingCreated, ref, **ids)
        else:
            event = _booking(BookingModified, ref, **ids)
        out.append(Planned(event, str(event.meta.event_id), key, seq, kind, ordered))
    return out


@dataclass
class ProducerFigures:
    sent: int = 0
    confirmed: int = 0
    failed: list[str] = field(default_factory=list)
    max_confirm_ms: int = 0
    """Longest time from `send()` to Kafka's confirmation of one event."""
    sent_at_ms: dict[str, int] = field(default_factory=dict)


class PacedProducer:
    """Send a plan at ``rate`` events/s from a thread; `join` waits for every confirmation."""

    def __init__(
        self,
        config: dict[str, Any],
        topology: Topology,
        events: list[Planned],
        rate: float,
        **overrides: Any,
    ) -> None:
        self.events = events
        self.rate = rate
        self.figures = ProducerFigures()
        self._producer = Producer(config=config, topology=topology, **overrides)
        self._thread = threading.Thread(target=self._run, name="paced-producer", daemon=True)
        self._error: BaseException | None = None
        self.done = threading.Event()

    def start(self) -> PacedProducer:
        self._thread.start()
        return self

    @property
    def progress(self) -> int:
        return self.figures.sent

    def _run(self) -> None:
        try:
            self._send_all()
        except BaseException as exc:
            self._error = exc
        finally:
            self.done.set()

    def _send_all(self) -> None:
        figures = self.figures
        pending: list[tuple[Delivery, int]] = []
        began = time.monotonic()
        for n, planned in enumerate(self.events):
            ahead = began + n / self.rate - time.monotonic()
            if ahead > 0:
                time.sleep(ahead)
            at = time.time_ns() // 1_000_000
            pending.append((self._producer.send(planned.event), at))
            figures.sent_at_ms[planned.event_id] = at
            figures.sent += 1
            if n % 200 == 0:
                pending = self._collect(pending)
        for delivery, _ in pending:
            with contextlib.suppress(DeliveryError):  # accounted for by _collect
                delivery.result(timeout=180)
        self._collect(pending)
        self._producer.close(timeout=30)

    def _collect(self, pending: list[tuple[Delivery, int]]) -> list[tuple[Delivery, int]]:
        """Account for the settled deliveries; keep the rest."""
        now = time.time_ns() // 1_000_000
        left = []
        for delivery, at in pending:
            if not delivery.done():
                left.append((delivery, at))
            elif delivery.error is not None:
                self.figures.failed.append(f"{delivery.event_id}: {delivery.error}")
            else:
                self.figures.confirmed += 1
                self.figures.max_confirm_ms = max(self.figures.max_confirm_ms, now - at)
        return left

    def join(self, timeout: float = 240) -> ProducerFigures:
        self._thread.join(timeout)
        assert not self._thread.is_alive(), "the producer did not finish"
        if self._error is not None:
            raise self._error
        return self.figures


__all__ = ["TENANTS", "PacedProducer", "Planned", "ProducerFigures", "plan"]
