"""The asyncio producer: `await producer.send(event)` returns once Kafka has confirmed.

librdkafka serves delivery reports only inside `poll()`, which blocks; a daemon thread
polls and hands each outcome to the event loop with `call_soon_threadsafe`, so the loop
never blocks. A full buffer makes `send()` await (the thread keeps draining it) instead of
growing memory, up to `buffer_timeout`. As with the blocking producer, an atexit hook
delivers what a producer left open still holds; its outcomes can no longer reach the
finished event loop, so refusals are logged.
"""

from __future__ import annotations

import asyncio
import atexit
import logging
import threading
import time
import weakref
from types import TracebackType
from typing import Any, Self

from opentelemetry.trace import Span

from frontdesk.errors import DeliveryError
from frontdesk.events import Event
from frontdesk.producer._base import ProducerBase
from frontdesk.producer.delivery import Delivered, delivery_error
from frontdesk.producer.tracing import end_span

log = logging.getLogger(__name__)


class _AsyncDelivery:
    """librdkafka's callback for one event: settles its future on the event loop."""

    __slots__ = ("event_id", "future", "loop", "span", "topic")

    def __init__(
        self, event_id: str, topic: str, span: Span | None, loop: asyncio.AbstractEventLoop
    ) -> None:
        self.event_id = event_id
        self.topic = topic
        self.span = span
        self.loop = loop
        self.future: asyncio.Future[Delivered] = loop.create_future()

    def __call__(self, err: Any, msg: Any) -> None:  # runs in the poll thread
        if self.span is not None:
            end_span(self.span, err)
        if err is not None:
            outcome: Delivered | DeliveryError = delivery_error(self.event_id, self.topic, err)
        else:
            outcome = Delivered(self.event_id, self.topic, msg.partition(), msg.offset())
        try:
            self.loop.call_soon_threadsafe(_settle, self.future, outcome)
        except RuntimeError:  # the loop is closed (process exit): nobody awaits this event
            if isinstance(outcome, DeliveryError):
                log.error("frontdesk async producer at exit: %s", outcome)


def _settle(future: asyncio.Future[Delivered], outcome: Delivered | DeliveryError) -> None:
    if future.done():  # the awaiting task was cancelled
        return
    if isinstance(outcome, DeliveryError):
        future.set_exception(outcome)
    else:
        future.set_result(outcome)


class AsyncProducer(ProducerBase):
    """Send typed events from asyncio code; use `async with` or `await close()`."""

    _poller: threading.Thread | None = None
    _stop: threading.Event

    def _opened(self) -> None:
        self._stop = threading.Event()
        _open.add(self)

    async def send(self, event: Event) -> Delivered:
        """Send `event` and return where Kafka stored it; `DeliveryError` if it refused."""
        return await (await self.enqueue(event))

    async def enqueue(self, event: Event) -> asyncio.Future[Delivered]:
        """Queue `event` (awaiting room if the buffer is full); the future settles on delivery."""
        record = self.prepare(event)
        self._ensure_poller()
        delivery = _AsyncDelivery(
            record.event_id,
            record.topic,
            self._start_span(event, record),
            asyncio.get_running_loop(),
        )
        began = time.monotonic()
        while not self._try_produce(record, delivery):
            waited = time.monotonic() - began
            if waited >= self.buffer_timeout:
                if delivery.span is not None:
                    delivery.span.end()
                raise self._buffer_full(record, waited)
            await asyncio.sleep(0.01)  # the poll thread frees space as reports arrive
        return delivery.future

    def _ensure_poller(self) -> None:
        if self._poller is None:
            self._poller = threading.Thread(
                target=self._poll_forever, name="frontdesk-producer-poll", daemon=True
            )
            self._poller.start()

    def _poll_forever(self) -> None:
        while not self._stop.is_set():
            self._kafka.poll(0.1)

    async def flush(self, timeout: float | None = None) -> None:
        """Wait until every queued event is confirmed or refused (outcomes go to futures)."""
        remaining = await asyncio.to_thread(self._kafka.flush, -1 if timeout is None else timeout)
        if remaining:
            raise TimeoutError(f"{remaining} events not confirmed by Kafka within {timeout}s")

    async def close(self, timeout: float | None = 30.0) -> None:
        """Flush, then stop the poll thread. Safe to call twice."""
        if self._closed:
            return
        try:
            await self.flush(timeout)
        finally:
            self._closed = True
            self._stop.set()
            if self._poller is not None:
                await asyncio.to_thread(self._poller.join, 5.0)

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()


_open: weakref.WeakSet[AsyncProducer] = weakref.WeakSet()


@atexit.register
def _flush_open_producers() -> None:
    """Safety net: deliver what an async producer still holds when the process exits."""
    for producer in list(_open):
        if producer._closed:
            continue
        producer._closed = True
        producer._stop.set()
        remaining = producer._kafka.flush(10.0)
        if remaining:
            log.error("frontdesk async producer at exit: %d events not confirmed", remaining)


__all__ = ["AsyncProducer"]
