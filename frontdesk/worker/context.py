"""What a handler knows about the delivery it is handling, beside the event itself.

The event says what happened; the context says how it got here: which attempt this is
(``1`` on first delivery, more when it came back from a retry tier), where it was read
from, and the event id to deduplicate side effects with (`once`).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field

from frontdesk import idempotency
from frontdesk.headers import Headers


@dataclass(slots=True)
class Context:
    """One delivery of one event to one handler."""

    event_id: str
    attempt: int
    """1 on the first delivery; n when the event is handled for the n-th time."""
    tenant_id: str
    property_id: str
    event_type: str
    topic: str
    partition: int
    offset: int
    key: str | None
    timestamp_ms: int | None
    headers: Headers
    app: str
    worker_id: str
    due_at_ms: int | None = None
    """When a retry tier released this delivery (ms since epoch); ``None`` on a main topic."""
    log: logging.Logger = field(default=logging.getLogger("frontdesk.handler"))
    _store: Callable[[], idempotency.IdempotencyStore] | None = field(default=None, repr=False)

    @property
    def is_retry(self) -> bool:
        return self.attempt > 1

    def once(self, step: str = "handled") -> AbstractAsyncContextManager[bool]:
        """``async with ctx.once("send-email") as first: if first: ...``

        ``first`` is ``False`` when this step already succeeded for this event (in this
        worker group, within the dedupe window); see `frontdesk.idempotency`.
        """
        if self._store is None:
            raise RuntimeError("this context has no idempotency store")
        return idempotency.once(self._store(), self.app, self.event_id, step)

    async def seen(self, step: str = "handled") -> bool:
        """Whether ``step`` already succeeded for this event."""
        if self._store is None:
            raise RuntimeError("this context has no idempotency store")
        return await self._store().is_done(self.app, self.event_id, step)

    async def mark(self, step: str = "handled") -> None:
        """Record that ``step`` succeeded (what `once` does on a clean exit)."""
        if self._store is None:
            raise RuntimeError("this context has no idempotency store")
        await self._store().mark_done(self.app, self.event_id, step)
