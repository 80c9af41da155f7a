"""Follow the held-keys and DLQ state topics, so holds survive owners and operators reach them.

A worker with ordered handlers runs one `StateFollower`: a consumer of its own (assigned by
hand, never in a group, ``read_committed``) that reads ``<ns.>frontdesk.held`` and
``<ns.>frontdesk.dlq.state`` from the beginning (both are compacted: that is the current
state) and keeps following them, in a thread. Each record is handed to the asyncio loop.

`sync` is what makes a rebalance safe: before a worker takes a main partition it waits
until the follower has read everything committed to the state topics *now*, which includes
the final checkpoint of the partition's previous owner (cooperative rebalancing revokes a
partition, and its owner commits, before anybody else is given it).
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
import uuid
from collections.abc import Callable
from typing import Any

from confluent_kafka import Consumer, KafkaError, KafkaException, TopicPartition

from frontdesk.access import AccessDeniedError, denied, is_denied, principal
from frontdesk.errors import FrontdeskError

log = logging.getLogger("frontdesk.worker")

Sink = Callable[[str, str, bytes | None], None]
"""(topic, key, value or None for a tombstone), called on the loop."""


class StateFollower:
    """Reads state topics to their end and follows them; `sync` waits for "caught up"."""

    def __init__(
        self, config: dict[str, Any], topics: list[str], sink: Sink, client_id: str, group: str
    ) -> None:
        """``group``: the worker's group, under which the follower's own (never joined) group
        id goes, so that it needs no group ACL beyond the worker's."""
        self._config = config
        self._group = group
        self._topics = topics
        self._sink = sink
        self._client_id = client_id
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._waiters: list[tuple[asyncio.Future[None], dict[tuple[str, int], int] | None]] = []
        self._next: dict[tuple[str, int], int] = {}
        """Next offset to read per partition (past records and transaction markers)."""
        self.error: BaseException | None = None

    def start(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop
        self._thread = threading.Thread(target=self._run, name="fd-state", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(10)

    async def sync(self, timeout: float = 60.0) -> None:
        """Wait until everything committed to the state topics before this call is read."""
        assert self._loop is not None
        future: asyncio.Future[None] = self._loop.create_future()
        with self._lock:
            self._waiters.append((future, None))
        await asyncio.wait_for(future, timeout)

    def _run(self) -> None:
        consumer = Consumer(
            {
                **self._config,
                "group.id": f"{self._group}.state-{uuid.uuid4().hex}",  # never joined
                "client.id": f"{self._client_id}-state",
                "enable.auto.commit": False,
                "enable.partition.eof": True,
                # Hold records are written in checkpoint transactions: never act on an
                # aborted one.
                "isolation.level": "read_committed",
            },
            logger=logging.getLogger("frontdesk.kafka"),
        )
        try:
            meta = consumer.list_topics(timeout=30).topics
            deadline = time.monotonic() + 30
            # Topics created a moment ago (on first use) may not be in the metadata yet.
            while any(t not in meta for t in self._topics) and time.monotonic() < deadline:
                time.sleep(0.2)
                meta = consumer.list_topics(timeout=30).topics
            unseen = [t for t in self._topics if t not in meta or meta[t].error is not None]
            if unseen:
                # Following without it would restore no hold and hear no release: stop.
                raise self._unseen(consumer, unseen[0])
            tps = [
                TopicPartition(topic, p, -2)  # OFFSET_BEGINNING
                for topic in self._topics
                for p in sorted(meta[topic].partitions)
            ]
            consumer.assign(tps)
            for tp in tps:
                self._next[(tp.topic, tp.partition)] = 0
            while not self._stop.is_set():
                self._serve_waiters(consumer)
                for msg in consumer.consume(500, 0.1):
                    err = msg.error()
                    where = (msg.topic() or "", msg.partition() or 0)
                    if err is not None:
                        if err.code() == KafkaError._PARTITION_EOF:
                            self._next[where] = max(self._next.get(where, 0), msg.offset() or 0)
                            continue
                        if is_denied(err):
                            denied_group = err.code() == KafkaError.GROUP_AUTHORIZATION_FAILED
                            name = self._group if denied_group else where[0]
                            raise denied(err, name, "READ", self._config)
                        if err.fatal():
                            raise KafkaException(err)
                        log.warning("state follower: %s", err.str())
                        continue
                    self._next[where] = (msg.offset() or 0) + 1
                    key = (msg.key() or b"").decode("utf-8", "replace")
                    self._deliver(where[0], key, msg.value())
                self._advance(consumer)
        except BaseException as exc:  # surfaced by the worker, which stops
            self.error = exc
            log.exception("state follower failed")
            self._fail_waiters(exc)
        finally:
            consumer.close()

    def _unseen(self, consumer: Consumer, topic: str) -> FrontdeskError:
        """Why a state topic is not in the metadata: hidden from us, or absent."""
        found = consumer.list_topics(topic, timeout=30).topics.get(topic)
        if found is not None and is_denied(found.error):
            return AccessDeniedError("topic", topic, "DESCRIBE", principal(self._config))
        return FrontdeskError(
            f"state topic {topic} does not exist: create it with `frontdesk topics apply`"
        )

    def _deliver(self, topic: str, key: str, value: bytes | None) -> None:
        assert self._loop is not None
        self._loop.call_soon_threadsafe(self._sink, topic, key, value)

    def _advance(self, consumer: Consumer) -> None:
        """Move past transaction markers at the end: ``position`` knows them, records do not."""
        tps = [TopicPartition(t, p) for t, p in self._next]
        try:
            for tp in consumer.position(tps):
                if tp.offset >= 0:
                    where = (tp.topic, tp.partition)
                    self._next[where] = max(self._next[where], tp.offset)
        except KafkaException:
            return

    def _serve_waiters(self, consumer: Consumer) -> None:
        with self._lock:
            waiters = self._waiters
            self._waiters = []
        kept = []
        for future, wanted in waiters:
            target = wanted
            if target is None:
                target = {}
                for t, p in self._next:
                    _, high = consumer.get_watermark_offsets(
                        TopicPartition(t, p), timeout=10, cached=False
                    )
                    target[(t, p)] = high
            if all(self._next.get(tp, 0) >= high for tp, high in target.items()):
                # Records handed to the loop before this are processed before the waiter
                # wakes: call_soon_threadsafe keeps the order.
                assert self._loop is not None
                self._loop.call_soon_threadsafe(_resolve, future)
            else:
                kept.append((future, target))
        if kept:
            with self._lock:
                self._waiters = kept + self._waiters

    def _fail_waiters(self, exc: BaseException) -> None:
        with self._lock:
            waiters, self._waiters = self._waiters, []
        assert self._loop is not None
        for future, _ in waiters:
            self._loop.call_soon_threadsafe(_reject, future, exc)


def _resolve(future: asyncio.Future[None]) -> None:
    if not future.done():
        future.set_result(None)


def _reject(future: asyncio.Future[None], exc: BaseException) -> None:
    if not future.done():
        future.set_exception(exc)


__all__ = ["StateFollower"]
