"""Delivery handles: what `send()` returns, resolved when Kafka confirms or refuses.

librdkafka reports each record's fate through a callback run inside `poll()`/`flush()`;
the handle *is* that callback (no closure per send) and keeps the outcome, so a caller can
confirm one event (`result()`), many at once (`flush()`), or not wait at all.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from opentelemetry.trace import Span

from frontdesk.errors import DeliveryError
from frontdesk.producer.tracing import end_span


@dataclass(frozen=True, slots=True)
class Delivered:
    """Where Kafka stored an event."""

    event_id: str
    topic: str
    partition: int
    offset: int


def delivery_error(event_id: str, topic: str, error: Any) -> DeliveryError:
    return DeliveryError(
        f"event {event_id} was not delivered to {topic}: {error}",
        event_id=event_id,
        topic=topic,
        error=error,
    )


class Delivery:
    """The pending or settled outcome of one send (also librdkafka's delivery callback)."""

    __slots__ = (
        "_poll",
        "_report",
        "collected",
        "error",
        "event_id",
        "offset",
        "partition",
        "span",
        "topic",
    )

    def __init__(
        self,
        event_id: str,
        topic: str,
        span: Span | None,
        poll: Callable[[float], object],
        report: Callable[[Delivery], None],
    ) -> None:
        self.event_id = event_id
        self.topic = topic
        self.span = span
        self.partition = -1
        self.offset = -1
        self.error: DeliveryError | None = None
        self.collected = False
        """Set once `result()` has raised the error: `flush()` will not raise it again."""
        self._poll: Callable[[float], object] | None = poll
        self._report = report

    def __call__(self, err: Any, msg: Any) -> None:
        """librdkafka's verdict, run from `poll()`/`flush()` in the caller's thread."""
        if err is not None:
            self.error = delivery_error(self.event_id, self.topic, err)
            self._report(self)
        else:
            self.partition = msg.partition()
            self.offset = msg.offset()
        if self.span is not None:
            end_span(self.span, err)
            self.span = None
        self._poll = None

    def done(self) -> bool:
        return self._poll is None

    def result(self, timeout: float | None = None) -> Delivered:
        """Wait (serving delivery reports) until Kafka confirms; raise `DeliveryError` if not."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while (poll := self._poll) is not None:
            left = 0.1 if deadline is None else min(0.1, deadline - time.monotonic())
            if left <= 0:
                raise TimeoutError(f"event {self.event_id} not confirmed within {timeout}s")
            poll(left)
        if self.error is not None:
            self.collected = True
            raise self.error
        return Delivered(self.event_id, self.topic, self.partition, self.offset)


__all__ = ["Delivered", "Delivery", "delivery_error"]
