"""The relay: publish outbox rows in `seq` order, mark them sent only once Kafka has them.

Order of operations for each batch, which is what makes a crash at any instant harmless:

1. read the oldest unsent rows, in `seq` order;
2. produce them in that order with the idempotent producer (librdkafka never reorders or
   duplicates within a partition, even across its own retries);
3. wait until Kafka has confirmed every one of them (no timeout: an unreachable Kafka
   stalls the relay, it never skips an event);
4. mark exactly those rows sent, in one transaction.

Killed before 4, the next relay publishes the batch again from its first row: a property's
events arrive again in the same order, with the same event ids (the only duplicates there
can be). A permanent refusal (e.g. no such topic, not authorised) stops the relay after
marking the rows confirmed before the first refused one; it never skips past an event.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import confluent_kafka

from frontdesk.errors import DeliveryError
from frontdesk.outbox.store import OutboxRow, OutboxStore
from frontdesk.producer.config import producer_config
from frontdesk.settings import Settings

log = logging.getLogger(__name__)

RELAY_OVERRIDES: Mapping[str, Any] = {
    # 0 = never give up on a record: a relay waits for Kafka rather than fail an event,
    # since a failed record followed by a delivered one would reorder the property.
    "message.timeout.ms": 0,
}


@dataclass
class RelayStats:
    published: int = 0
    batches: int = 0


class Relay:
    """Publishes one outbox table; run it with `run()` until `stop()`."""

    def __init__(
        self,
        store: OutboxStore,
        settings: Settings | None = None,
        *,
        config: Mapping[str, Any] | None = None,
        batch_size: int = 500,
        idle_interval: float = 0.2,
        on_batch: Callable[[int], None] | None = None,
    ) -> None:
        self.store = store
        self.batch_size = batch_size
        self.idle_interval = idle_interval
        self.on_batch = on_batch
        self.stats = RelayStats()
        self._stop = threading.Event()
        self._kafka = confluent_kafka.Producer(producer_config(settings, config, **RELAY_OVERRIDES))

    def stop(self) -> None:
        self._stop.set()

    def run(self, *, until_empty: bool = False, lock_timeout: float | None = None) -> RelayStats:
        """Publish until stopped (or, with `until_empty`, until no row is left unsent)."""
        self._acquire_lock(lock_timeout)
        while not self._stop.is_set():
            published = self.publish_batch()
            if published == 0:
                if until_empty:
                    break
                self._stop.wait(self.idle_interval)
        return self.stats

    def _acquire_lock(self, timeout: float | None) -> None:
        began = time.monotonic()
        warned = False
        while not self.store.try_lock():
            if timeout is not None and time.monotonic() - began > timeout:
                raise RuntimeError("another relay holds the outbox lock")
            if not warned:
                log.warning("another relay is publishing this outbox; waiting for its lock")
                warned = True
            if self._stop.wait(1.0):
                return

    def publish_batch(self) -> int:
        """Publish and mark one batch; the number of rows published."""
        rows = self.store.fetch_unsent(self.batch_size)
        if not rows:
            return 0
        failures: dict[int, Any] = {}
        for row in rows:
            self._produce(row, failures)
        self._confirm(len(rows))
        if failures:
            first = min(failures)
            self.store.mark_sent([r.seq for r in rows if r.seq < first])
            bad = next(r for r in rows if r.seq == first)
            raise DeliveryError(
                f"outbox row {first} (event {bad.event_id}) refused by Kafka: {failures[first]}",
                event_id=bad.event_id,
                topic=bad.topic,
                error=failures[first],
            )
        self.store.mark_sent([r.seq for r in rows])
        self.stats.published += len(rows)
        self.stats.batches += 1
        if self.on_batch is not None:
            self.on_batch(len(rows))
        return len(rows)

    def _produce(self, row: OutboxRow, failures: dict[int, Any]) -> None:
        def delivered(err: Any, _msg: Any) -> None:
            if err is not None:
                failures[row.seq] = err

        while True:
            try:
                self._kafka.produce(
                    row.topic,
                    row.value,
                    row.key,
                    on_delivery=delivered,
                    headers=row.headers,  # type: ignore[arg-type]  # list is invariant
                )
                break
            except BufferError:
                self._kafka.poll(0.05)  # full buffer: wait for confirmations, do not grow
        self._kafka.poll(0)

    def _confirm(self, count: int) -> None:
        began = time.monotonic()
        while self._kafka.flush(5.0) > 0:
            log.warning(
                "%d of %d events still unconfirmed after %.0fs; is Kafka reachable?",
                len(self._kafka),
                count,
                time.monotonic() - began,
            )

    def close(self) -> None:
        self._kafka.flush(10.0)
        self.store.close()


__all__ = ["RELAY_OVERRIDES", "Relay", "RelayStats"]
