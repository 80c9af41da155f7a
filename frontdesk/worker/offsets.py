"""Which offset of a partition is safe to commit when records finish out of order.

Records of one partition run concurrently (different keys), so they finish in any order,
but a Kafka commit says "everything before this offset is done". The tracker therefore
commits only up to the *lowest unfinished* offset: committing past an unfinished record
would lose it on a crash, and librdkafka refuses to move a committed offset backwards, so
a later correction is impossible.

Contiguity is over the offsets actually *received*, not over integers: transactional
topics (our retry tiers) contain control records, and compacted topics have holes, so
offset ``n + 1`` may never arrive. Pure and synchronous, so it is unit-tested alone.
"""

from __future__ import annotations

from collections import deque


class OffsetTracker:
    """Offsets of one partition, received in order and finished in any order."""

    __slots__ = ("_done", "_last_received", "_pending")

    def __init__(self) -> None:
        self._pending: deque[int] = deque()
        """Received offsets not yet known to be below the commit point, ascending."""
        self._done: set[int] = set()
        """Offsets in ``_pending`` that finished."""
        self._last_received: int | None = None

    def receive(self, offset: int) -> bool:
        """Note a record handed to the runtime; ``False`` for an offset already seen.

        A repeat can only come from a client re-delivering after pause/seek; the caller
        drops it rather than run the record twice in one process.
        """
        if self._last_received is not None and offset <= self._last_received:
            return False
        self._last_received = offset
        self._pending.append(offset)
        return True

    def finish(self, offset: int) -> None:
        """Mark ``offset`` done (handled, or handed off to a retry tier or the DLQ)."""
        if not self._pending or offset < self._pending[0]:
            return  # already below the commit point
        self._done.add(offset)
        while self._pending and self._pending[0] in self._done:
            self._done.discard(self._pending.popleft())

    def committable(self) -> int | None:
        """The offset to commit: the lowest unfinished one, or one past the last received.

        ``None`` until a record has been received: there is nothing to say yet.
        """
        if self._pending:
            return self._pending[0]
        if self._last_received is None:
            return None
        return self._last_received + 1

    @property
    def outstanding(self) -> int:
        """Records received but not yet under the commit point (running, queued or done
        behind an unfinished one): the partition's share of memory, used for back-pressure."""
        return len(self._pending)

    @property
    def last_received(self) -> int | None:
        return self._last_received
