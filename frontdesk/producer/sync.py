"""The blocking producer a PMS embeds: `send(event)` in one call, confirmed on demand.

`send()` validates, encodes, routes and queues the event and returns a `Delivery` at once;
`send(event, wait=True)`, `delivery.result()` or `flush()` wait for Kafka's confirmation.
A full buffer makes `send()` wait (serving delivery reports) rather than grow memory, up to
`buffer_timeout`. Failures never vanish: each is raised by its handle's `result()`, and
`flush()` raises any nobody collected. An atexit hook flushes producers left open, the
classic way to lose the tail of a batch.
"""

from __future__ import annotations

import atexit
import logging
import time
import weakref
from types import TracebackType
from typing import Self

from frontdesk.errors import DeliveryError
from frontdesk.events import Event
from frontdesk.producer._base import ProducerBase
from frontdesk.producer.delivery import Delivered, Delivery
from frontdesk.producer.routing import Outgoing

log = logging.getLogger(__name__)

_open: weakref.WeakSet[Producer] = weakref.WeakSet()


class Producer(ProducerBase):
    """Send typed events to their topics; see the module docstring."""

    _failed: list[Delivery]

    def _opened(self) -> None:
        self._failed = []
        _open.add(self)

    def send(self, event: Event, *, wait: bool = False, timeout: float | None = None) -> Delivery:
        """Queue `event`; with `wait=True` return only once Kafka has confirmed it."""
        record = self.prepare(event)
        kafka = self._kafka
        delivery = Delivery(
            record.event_id,
            record.topic,
            self._start_span(event, record),
            kafka.poll,
            self._failed.append,
        )
        if not self._try_produce(record, delivery):
            self._wait_for_room(record, delivery)
        kafka.poll(0)  # serve delivery reports of earlier sends, without blocking
        if wait:
            delivery.result(timeout)
        return delivery

    def send_and_confirm(self, event: Event, timeout: float | None = None) -> Delivered:
        """`send(event)` and wait for Kafka: the partition and offset it was stored at."""
        return self.send(event).result(timeout)

    def _wait_for_room(self, record: Outgoing, delivery: Delivery) -> None:
        began = time.monotonic()
        while True:
            waited = time.monotonic() - began
            if waited >= self.buffer_timeout:
                if delivery.span is not None:
                    delivery.span.end()
                raise self._buffer_full(record, waited)
            self._kafka.poll(0.05)  # delivery reports free buffer space
            if self._try_produce(record, delivery):
                return

    def flush(self, timeout: float | None = None) -> None:
        """Wait until every queued event is confirmed; raise the first uncollected failure."""
        remaining = self._kafka.flush(-1 if timeout is None else timeout)
        failed = [d for d in self._failed if not d.collected]
        self._failed.clear()
        if failed:
            first = failed[0].error
            assert first is not None
            if len(failed) > 1:
                others = ", ".join(d.event_id for d in failed[1:6])
                first.args = (f"{first.args[0]} (and {len(failed) - 1} more: {others}...)",)
            raise first
        if remaining:
            raise TimeoutError(f"{remaining} events not confirmed by Kafka within {timeout}s")

    def close(self, timeout: float | None = 30.0) -> None:
        """Flush and stop accepting events. Safe to call twice."""
        if self._closed:
            return
        try:
            self.flush(timeout)
        finally:
            self._closed = True
            _open.discard(self)

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


@atexit.register
def _flush_open_producers() -> None:
    """Safety net: deliver what a producer still holds when the process exits."""
    for producer in list(_open):
        try:
            producer.close(timeout=10.0)
        except (DeliveryError, TimeoutError) as exc:
            log.error("frontdesk producer at exit: %s", exc)


__all__ = ["Producer"]
