"""The runner's bookkeeping types: an assigned partition, a record in flight, its outcome."""

from __future__ import annotations

import asyncio
from typing import cast

from confluent_kafka import Message, TopicPartition

from frontdesk.naming import TopicName
from frontdesk.worker.handoff import Forward
from frontdesk.worker.holds import Hold
from frontdesk.worker.offsets import OffsetTracker
from frontdesk.worker.tiers import TierGate


def record_headers(msg: Message) -> list[tuple[str, bytes]]:
    """The record's headers as (name, bytes) pairs: what confluent-kafka returns on reads."""
    return cast(list[tuple[str, bytes]], msg.headers() or [])


class Partition:
    """What the worker knows about one assigned partition (or, for replays, one parked
    partition read on behalf of an assigned main partition)."""

    __slots__ = (
        "alive",
        "committed",
        "forwards",
        "gate",
        "info",
        "main",
        "parked",
        "partition",
        "paused",
        "reasons",
        "revoke_below",
        "revoking",
        "running",
        "started_max",
        "timer",
        "topic",
        "tracker",
    )

    def __init__(self, topic: str, partition: int, info: TopicName | None) -> None:
        self.topic = topic
        self.partition = partition
        self.info = info
        self.main = info.main if info is not None else topic
        self.tracker = OffsetTracker()
        self.gate: TierGate[Job] | None = (
            TierGate() if info is not None and info.role == "retry" else None
        )
        self.forwards: dict[int, list[Forward]] = {}
        self.committed: int | None = None
        self.reasons: set[str] = set()
        self.paused = False
        self.running = 0
        self.revoking = False
        self.started_max = -1
        """Highest offset handed to a handler (everything below it blocks the commit)."""
        self.revoke_below = -1
        """While revoking: queued records below this offset still run (they hold back the
        commit point over records already finished); the rest are dropped."""
        self.alive = True
        self.timer: asyncio.TimerHandle | None = None
        self.parked: Partition | None = None
        """For a main partition: the parked partition its held keys' replays read from."""

    @property
    def is_main(self) -> bool:
        return self.info is not None and self.info.role == "main"

    def tp(self, offset: int = -1001) -> TopicPartition:
        return TopicPartition(self.topic, self.partition, offset)


class Job:
    """One record on its way through the runtime."""

    __slots__ = (
        "due_ms",
        "generation",
        "key",
        "msg",
        "offset",
        "part",
        "replay",
        "task",
        "tenant",
    )

    def __init__(self, part: Partition, msg: Message, key: bytes | None, offset: int) -> None:
        self.part = part
        self.msg = msg
        self.key = key
        self.offset = offset
        self.due_ms: int | None = None
        self.task: asyncio.Task[None] | None = None
        self.replay: Hold | None = None
        """Set for a parked record being run back for the hold it was parked behind."""
        self.generation = 0
        self.tenant: str | None = None
        """The payload's tenant once decoded (the DLQ budget is kept per tenant)."""


class Outcome:
    """What became of a record: forwards to write at the next checkpoint, and whether it was
    dead-lettered (for the DLQ budget)."""

    __slots__ = ("dead", "forwards", "parked", "skipped", "waiting")

    def __init__(
        self,
        forwards: list[Forward] | None = None,
        dead: bool = False,
        skipped: bool = False,
        parked: bool = False,
        waiting: bool = False,
    ) -> None:
        self.forwards = forwards or []
        self.dead = dead
        self.skipped = skipped
        """A replay that no longer applies (its hold has a new holder): nothing happened."""
        self.parked = parked
        """Parked behind a held key: neither handled nor failed (the DLQ budget skips it)."""
        self.waiting = waiting
        """Its tenant is halted: sent to wait in a retry tier, not handled (nor counted)."""


OK = Outcome()
SKIPPED = Outcome(skipped=True)
