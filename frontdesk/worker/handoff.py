"""Hand-off: moving an event to a retry tier or the DLQ, atomically with its offset commit.

A failed event is *forwarded*: its key and value bytes are produced, untouched, to
``<main>.retry.<delay>`` or ``<main>.dlq`` with headers that record its history. The
forward and the commit of the source offset happen in one Kafka transaction, so a crash
can never leave the event both forwarded and uncommitted (a duplicate attempt) nor
committed and not forwarded (a lost event).

The commit order, which every checkpoint follows (see ``Worker._checkpoint``):

1. A handler finishes: success, or an outcome that needs a forward. The forward is kept in
   memory beside its offset and the offset is marked finished in the `OffsetTracker`.
2. At a checkpoint (every ``commit_interval``, on revoke, on shutdown) the runtime takes,
   per partition, the commit point ``C`` (lowest unfinished offset) and the forwards with
   offsets below ``C``. Forwards at or above ``C`` wait: committing them now would leave
   their source offset uncommitted, and a crash would forward them a second time.
3. One transaction: ``begin`` → produce those forwards → ``send_offsets_to_transaction``
   with ``C`` for every partition and the consumer's group metadata → ``commit``.
4. Only after the commit succeeds are the forwards dropped from memory and ``C`` remembered
   as committed. An aborted transaction leaves both in place for the next checkpoint.

Plain progress (no forward) is committed through the same transaction, so there is exactly
one commit path: a non-transactional ``Consumer.commit`` racing a transactional offset
commit could move the group's offset backwards. The group metadata (generation) fences a
worker that lost its partitions in a rebalance; the transactional id fences a zombie of the
same worker slot. Consumers read the tiers with ``isolation.level=read_committed``, so an
aborted forward is never seen.
"""

from __future__ import annotations

import contextlib
import logging
import time
import traceback
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from confluent_kafka import KafkaError, KafkaException, Producer, TopicPartition

from frontdesk import access, headers, naming
from frontdesk.worker.errors import WorkerFencedError

log = logging.getLogger(__name__)

MAX_MESSAGE_CHARS = 1000
"""Error messages are truncated: a header is not a log file, and records have a size cap."""
MAX_STACK_CHARS = 4000
"""The innermost frames are kept (the tail), since that is where the error was raised."""


@dataclass(frozen=True, slots=True)
class Source:
    """Where the failing record was read from."""

    topic: str
    partition: int
    offset: int
    timestamp_ms: int | None


@dataclass(frozen=True, slots=True)
class Forward:
    """A record to produce to a retry tier or the DLQ, with its key and value untouched."""

    topic: str
    key: bytes | None
    value: bytes | None
    headers: headers.Headers
    kind: str
    """``retry``, ``dlq``, ``park``, ``divert`` or ``state`` (a held-keys state record)."""
    reason: str
    """For the DLQ, the ``fd-reason``; for a retry, the tier's delay; for a park, the hold
    id; for a diversion, the dependency."""
    dead_letter_to: str | None = None
    """For a diversion: the DLQ of the main topic it was diverted from, where it goes if it
    does not fit the fallback topic (`dead_letter_topic`); never taken from a header."""


class HandoffAbortedError(Exception):
    """A checkpoint transaction was aborted; its forwards and offsets are kept for the next."""


class ForwardTooLargeError(HandoffAbortedError):
    """The checkpoint was aborted because these forwards do not fit their topics (the
    client or the broker said ``MSG_SIZE_TOO_LARGE``): the runner replaces each with a
    `too_large_dead_letter` before the next checkpoint, so the partition never stalls."""

    def __init__(self, message: str, forwards: Sequence[Forward]) -> None:
        super().__init__(message)
        self.forwards = list(forwards)


RECORD_OVERHEAD_BYTES = 1024
"""Upper bound of what Kafka adds around one record in a batch (lengths, varints, the batch
header): a forward fits when its key, value and headers plus this are within the limit."""
MAX_KEY_BYTES = 1024
_TOO_LARGE_CODES = frozenset({KafkaError.MSG_SIZE_TOO_LARGE, KafkaError.RECORD_LIST_TOO_LARGE})


def record_size(key: bytes | None, value: bytes | None, record_headers: headers.Headers) -> int:
    """What a record weighs against ``max.message.bytes`` (an upper bound)."""
    size = RECORD_OVERHEAD_BYTES + len(key or b"") + len(value or b"")
    return size + sum(len(k.encode()) + len(v or b"") + 10 for k, v in record_headers)


def dead_letter_topic(forward: Forward) -> str:
    """The DLQ a forward's record belongs in: its own main topic's DLQ."""
    if forward.kind == "dlq":
        return forward.topic
    if forward.kind == "divert":
        return forward.dead_letter_to or naming.dlq_topic(forward.topic)
    if forward.kind == "park":
        main = forward.topic.removesuffix(naming.PARKED_SUFFIX)
    else:
        main = forward.topic.rsplit(naming.RETRY_INFIX, 1)[0]
    return naming.dlq_topic(main)


def too_large_dead_letter(forward: Forward, limit: int, now_ms: int) -> Forward:
    """A dead letter that fits in place of a forward that does not: same key and headers,
    reason ``too_large``, the payload dropped (its size in ``fd-dropped-bytes``).

    Headers a tenant piled on are dropped too if they alone would not fit: then only the
    envelope and runtime headers are kept, each cut to `MAX_MESSAGE_CHARS` bytes, and the
    key to `MAX_KEY_BYTES`. The original topic, partition and offset are in the headers
    already (every forward carries them).
    """
    size = record_size(forward.key, forward.value, forward.headers)
    updates = {
        headers.REASON: "too_large",
        # Shrunk twice (its headers did not fit either): the first drop's size stands.
        headers.DROPPED_BYTES: str(len(forward.value))
        if forward.value
        else headers.get(forward.headers, headers.DROPPED_BYTES) or "0",
        headers.ERROR_CLASS: "frontdesk.worker.handoff.ForwardTooLargeError",
        headers.ERROR_MESSAGE: (
            f"the {forward.kind} forward to {forward.topic} weighs {size} bytes, over the "
            f"limit of {limit}: the payload was dropped"
        ),
        headers.DEAD_LETTERED_AT: str(now_ms),
    }
    kept = [(k, v) for k, v in headers.replace(forward.headers, updates) if k != headers.DUE_AT]
    key = forward.key
    if record_size(key, None, kept) > limit:
        wanted = headers.RUNTIME | headers.ENVELOPE
        last = {k: v for k, v in kept if k in wanted}
        kept = [(k, v[:MAX_MESSAGE_CHARS]) for k, v in last.items()]
        key = key[:MAX_KEY_BYTES] if key is not None else None
    return Forward(dead_letter_topic(forward), key, None, kept, "dlq", "too_large")


def fitted(forward: Forward, limit: int, now_ms: int) -> Forward:
    """``forward`` itself if it fits ``limit``, else its `too_large_dead_letter`."""
    if forward.kind == "state" or record_size(forward.key, forward.value, forward.headers) <= limit:
        return forward
    return too_large_dead_letter(forward, limit, now_ms)


def _truncate(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _error_message(error: BaseException) -> str:
    return _truncate(str(error) or repr(error), MAX_MESSAGE_CHARS)


def _error_class(error: BaseException) -> str:
    cls = type(error)
    return f"{cls.__module__}.{cls.__qualname__}"


def stack_trace(error: BaseException) -> str:
    text = "".join(traceback.format_exception(error))
    return text if len(text) <= MAX_STACK_CHARS else "…" + text[-(MAX_STACK_CHARS - 1) :]


def _history(
    record_headers: Sequence[tuple[str, bytes | None]] | None, source: Source, now_ms: int
) -> dict[str, str]:
    """Original coordinates and first failure time: kept from the first main-topic read."""
    original_topic = headers.get(record_headers, headers.ORIGINAL_TOPIC)
    if original_topic is not None:
        history = {
            name: value
            for name in (
                headers.ORIGINAL_TOPIC,
                headers.ORIGINAL_PARTITION,
                headers.ORIGINAL_OFFSET,
                headers.ORIGINAL_TIMESTAMP,
            )
            if (value := headers.get(record_headers, name)) is not None
        }
    else:
        history = {
            headers.ORIGINAL_TOPIC: source.topic,
            headers.ORIGINAL_PARTITION: str(source.partition),
            headers.ORIGINAL_OFFSET: str(source.offset),
        }
        if source.timestamp_ms is not None:
            history[headers.ORIGINAL_TIMESTAMP] = str(source.timestamp_ms)
    history[headers.FIRST_FAILURE_AT] = headers.get(
        record_headers, headers.FIRST_FAILURE_AT
    ) or str(now_ms)
    history[headers.LAST_FAILURE_AT] = str(now_ms)
    return history


def retry_headers(
    record_headers: Sequence[tuple[str, bytes | None]] | None,
    *,
    source: Source,
    attempts: int,
    error: BaseException,
    now_ms: int,
    due_ms: int,
    trace: dict[str, str] | None = None,
) -> headers.Headers:
    """Headers for the record sent to a retry tier after ``attempts`` failed deliveries.

    The producer's headers (tenant, event type and id, schema) are kept; the history is
    replaced, not appended, so a record that went through three tiers has one of each.
    ``trace`` (``traceparent``/``tracestate``) makes the next attempt a child of this one.
    """
    updates = _history(record_headers, source, now_ms)
    updates.update(
        {
            headers.ATTEMPT: str(attempts),
            headers.ERROR_CLASS: _error_class(error),
            headers.ERROR_MESSAGE: _error_message(error),
            headers.DUE_AT: str(due_ms),
        }
    )
    if trace:
        updates.update(trace)
    return headers.replace(record_headers, updates)


def dlq_headers(
    record_headers: Sequence[tuple[str, bytes | None]] | None,
    *,
    source: Source,
    attempts: int,
    reason: str,
    error: BaseException | None,
    now_ms: int,
    worker_id: str,
    trace_id: str | None = None,
    trace: dict[str, str] | None = None,
) -> headers.Headers:
    """Headers for a dead letter: why, what was raised, where it came from, who sent it.
    ``trace`` (``traceparent``/``tracestate``) names the dead-lettering span, so that a
    redriven event continues the trace from there."""
    updates = _history(record_headers, source, now_ms)
    updates.update(
        {
            headers.REASON: reason,
            headers.ATTEMPT: str(attempts),
            headers.WORKER_ID: worker_id,
            headers.DEAD_LETTERED_AT: str(now_ms),
        }
    )
    if error is not None:
        updates[headers.ERROR_CLASS] = _error_class(error)
        updates[headers.ERROR_MESSAGE] = _error_message(error)
        updates[headers.STACK_TRACE] = stack_trace(error)
    if trace_id:
        updates[headers.TRACE_ID] = trace_id
    if trace:
        updates.update(trace)
    # A DLQ record is not waiting for anything.
    return [(k, v) for k, v in headers.replace(record_headers, updates) if k != headers.DUE_AT]


def parked_headers(
    record_headers: Sequence[tuple[str, bytes | None]] | None,
    *,
    source: Source,
    hold_id: str,
    group: str,
    now_ms: int,
) -> headers.Headers:
    """Headers for a record parked behind a held key: the producer's, where it came from,
    and which hold of which group it waits for (parked topics are shared by groups)."""
    updates = {
        k: v
        for k, v in _history(record_headers, source, now_ms).items()
        if k not in (headers.FIRST_FAILURE_AT, headers.LAST_FAILURE_AT)
    }
    updates.update(
        {headers.HOLD_ID: hold_id, headers.PARKED_BY: group, headers.PARKED_AT: str(now_ms)}
    )
    return headers.replace(record_headers, updates)


def diverted_headers(
    record_headers: Sequence[tuple[str, bytes | None]] | None,
    *,
    source: Source,
    main: str,
    dependency: str,
    reason: str,
    now_ms: int,
) -> headers.Headers:
    """Headers for a record diverted to the fallback queue because ``dependency``'s breaker
    is open. The attempt count and due time are dropped: the fallback queue's own retry
    tiers start afresh; the original coordinates and failure times are kept."""
    updates = _history(record_headers, source, now_ms)
    updates.update(
        {
            headers.DIVERTED_FROM: main,
            headers.DEPENDENCY: dependency,
            headers.DIVERTED_AT: str(now_ms),
            headers.DIVERT_REASON: _truncate(reason, MAX_MESSAGE_CHARS),
        }
    )
    dropped = (headers.ATTEMPT, headers.DUE_AT)
    return [(k, v) for k, v in headers.replace(record_headers, updates) if k not in dropped]


class TransactionalCommitter:
    """The worker's only way to commit: a transactional producer, used from one thread.

    Every method blocks on the broker, so the runner calls them from a dedicated thread;
    they must never run concurrently (transactions are strictly sequential per producer).
    Each librdkafka call is timed (`in_call`), so the runner can tell one that does not
    return: librdkafka does not always honour the timeout it is given (a
    ``send_offsets_to_transaction`` after a broker restart was seen blocked for minutes).
    """

    def __init__(
        self,
        config: dict[str, Any],
        transactional_id: str,
        timeout: float = 30.0,
        group: str | None = None,
        max_message_bytes: int = 1_000_000,
    ):
        self.transactional_id = transactional_id
        self.group = group
        """The consumer group whose offsets the transactions commit (named in errors)."""
        self.timeout = timeout
        self._producer = Producer(
            {
                **config,
                "transactional.id": transactional_id,
                # Java-compatible placement, so a retried event lands where a Java or faust
                # producer would have put it.
                "partitioner": "murmur2_random",
                # A checkpoint transaction lives for milliseconds; a short timeout lets the
                # coordinator abort a crashed worker's transaction quickly if no successor
                # with the same id arrives to fence it.
                "transaction.timeout.ms": int(timeout * 1000),
                "linger.ms": 5,
                # Hand-off topics take larger records than main topics (see
                # `frontdesk.topology.model.HANDOFF_HEADROOM_BYTES`): so must the client.
                "message.max.bytes": max_message_bytes,
            },
            logger=logging.getLogger("frontdesk.kafka"),
        )
        self.transactions = 0
        self.open = False
        """A transaction was begun and neither committed nor aborted: an abort that failed
        leaves it open, and its offsets block the group's ``read_committed`` readers
        (``UNSTABLE_OFFSET_COMMIT``) until it is aborted or the id is fenced."""
        self._parked_to: dict[str, int] = {}
        self._oversized: list[Forward] = []
        self._config = config
        self._refused: tuple[KafkaError, str] | None = None
        """An authorization failure of a record of this transaction, and its topic."""
        self.in_call: tuple[str, float] | None = None
        """The librdkafka call running now and when it started (monotonic), or ``None``."""

    @contextlib.contextmanager
    def _call(self, name: str) -> Iterator[None]:
        self.in_call = (name, time.monotonic())
        try:
            yield
        finally:
            self.in_call = None

    def stuck(self, bound: float) -> tuple[str, float] | None:
        """The call running for longer than ``bound`` seconds, and for how long, if any."""
        current = self.in_call
        if current is None:
            return None
        elapsed = time.monotonic() - current[1]
        return (current[0], elapsed) if elapsed > bound else None

    def start(self) -> None:
        """Register the transactional id: fences any older producer with the same id and
        aborts its open transaction, so a restarted worker slot cleans up after its
        predecessor at once."""
        try:
            with self._call("init_transactions"):
                self._producer.init_transactions(self.timeout)
        except KafkaException as exc:
            raise self._classify(exc) from exc

    def commit(
        self,
        forwards: Sequence[Forward],
        offsets: Sequence[TopicPartition],
        group_metadata: object,
    ) -> dict[str, int]:
        """Produce ``forwards`` and commit ``offsets`` in one transaction (see module doc).

        Returns, per hold id, one past the highest parked-topic offset of the parks it
        committed (a release must read at least that far before it may finish)."""
        try:
            with self._call("begin_transaction/produce"):
                self._begin_and_produce(forwards)
            if self._oversized:  # refused by the client: no need to ask the broker
                raise KafkaException(KafkaError(KafkaError.MSG_SIZE_TOO_LARGE))
            if offsets:  # a checkpoint may carry only state records (a release, a replay)
                self._send_offsets(offsets, group_metadata)
            self._commit()
        except KafkaException as exc:
            error = self._classify(exc)
            if isinstance(error, WorkerFencedError):
                raise error from exc
            with contextlib.suppress(HandoffAbortedError):
                self._abort()  # one that fails leaves `open` set: `abort_open` tries again
            self._producer.poll(0)  # delivery reports of the aborted records
            if self._oversized and isinstance(error, HandoffAbortedError):
                oversized, self._oversized = self._oversized, []
                raise ForwardTooLargeError(
                    f"{len(oversized)} forward(s) too large for their topics", oversized
                ) from exc
            raise error from exc
        self.transactions += 1
        self._producer.poll(0)  # delivery reports not served yet (normally none left)
        parked_to, self._parked_to = self._parked_to, {}
        return parked_to

    def _begin_and_produce(self, forwards: Sequence[Forward]) -> None:
        self._producer.begin_transaction()
        self.open = True
        self._parked_to = {}
        self._oversized = []
        for fw in forwards:
            record_headers: list[tuple[str, str | bytes | None]] = list(fw.headers)
            delivered = self._delivery_callback(fw)
            while True:
                try:
                    self._producer.produce(
                        fw.topic,
                        key=fw.key,
                        value=fw.value,
                        headers=record_headers,
                        on_delivery=delivered,
                    )
                    break
                except BufferError:
                    self._producer.poll(0.05)  # queue full: let deliveries drain
                except KafkaException as exc:
                    if exc.args[0].code() not in _TOO_LARGE_CODES:
                        raise
                    self._oversized.append(fw)
                    break
        self._producer.poll(0)

    def _delivery_callback(self, fw: Forward) -> Any:
        """Note a forward refused for its size or for an ACL, and where a park landed."""

        def delivered(err: KafkaError | None, msg: Any) -> None:
            if err is not None:
                if err.code() in _TOO_LARGE_CODES:
                    self._oversized.append(fw)
                elif access.is_denied(err) and self._refused is None:
                    self._refused = (err, fw.topic)  # named when the commit fails
                return
            offset = msg.offset()
            if fw.kind == "park" and offset is not None and offset >= 0:
                hold_id = fw.reason
                self._parked_to[hold_id] = max(self._parked_to.get(hold_id, 0), offset + 1)

        return delivered

    def _send_offsets(self, offsets: Sequence[TopicPartition], group_metadata: object) -> None:
        with self._call("send_offsets_to_transaction"):
            self._producer.send_offsets_to_transaction(list(offsets), group_metadata, self.timeout)

    def _commit(self) -> None:
        for attempt in range(3):
            try:
                with self._call("commit_transaction"):
                    self._producer.commit_transaction(self.timeout)
                self.open = False
                return
            except KafkaException as exc:
                err: KafkaError = exc.args[0]
                if err.retriable() and not err.txn_requires_abort() and attempt < 2:
                    continue  # the commit's outcome is unknown: librdkafka says ask again
                raise

    def abort_offsets(self, anchor: TopicPartition, group_metadata: object) -> None:
        """A transaction that adds the group's offsets (``anchor``, never committed) and is
        aborted: its abort marker settles offsets of this producer id left pending by a
        transaction the broker ended without a marker (`frontdesk.worker.hanging`)."""
        try:
            with self._call("begin_transaction"):
                self._producer.begin_transaction()
        except KafkaException as exc:
            raise self._classify(exc) from exc
        self.open = True
        try:
            self._send_offsets([anchor], group_metadata)
        except KafkaException as exc:
            error = self._classify(exc)
            if isinstance(error, WorkerFencedError):
                raise error from exc
            # A refused offset (a stale generation) still leaves the group's partition in
            # the transaction, which is all the abort marker needs.
            log.info("offsets for the settling transaction refused: %s", exc)
        self._abort()

    def abort_open(self) -> None:
        """Abort the transaction a failed checkpoint left open, if any.

        A worker with nothing left to commit (it lost its partitions when the broker went
        away) attempts no more checkpoints, so without this its open transaction would keep
        the group's offsets unstable for the partitions' next owner."""
        if self.open:
            self._abort()

    def _abort(self) -> None:
        try:
            with self._call("abort_transaction"):
                self._producer.abort_transaction(self.timeout)
        except KafkaException as exc:
            err: KafkaError = exc.args[0]
            if err.fatal():
                raise WorkerFencedError(f"cannot abort transaction: {err.str()}") from exc
            log.warning("abort_transaction failed (%s); the transaction stays open", err.str())
            raise HandoffAbortedError(f"abort_transaction failed: {err.str()}") from exc
        self.open = False

    def _classify(self, exc: KafkaException) -> Exception:
        err: KafkaError = exc.args[0]
        refused, self._refused = self._refused, None
        if refused is not None:  # retrying cannot help: say which topic lacks the ACL
            return access.denied(refused[0], refused[1], "WRITE", self._config)
        if err.code() == KafkaError.TRANSACTIONAL_ID_AUTHORIZATION_FAILED:
            return access.denied(err, self.transactional_id, "WRITE", self._config)
        if err.code() == KafkaError.GROUP_AUTHORIZATION_FAILED:
            return access.denied(err, self.group or "(the worker's)", "READ", self._config)
        if err.fatal() or err.code() in (
            KafkaError._FENCED,
            KafkaError.PRODUCER_FENCED,
            KafkaError.INVALID_PRODUCER_EPOCH,
        ):
            return WorkerFencedError(
                f"transactional id {self.transactional_id!r} was fenced or failed fatally: "
                f"{err.str()}"
            )
        return HandoffAbortedError(err.str())

    def close(self) -> None:
        with self._call("flush"):
            self._producer.flush(5)


def wall_ms() -> int:
    return time.time_ns() // 1_000_000


__all__ = [
    "Forward",
    "ForwardTooLargeError",
    "HandoffAbortedError",
    "Source",
    "TransactionalCommitter",
    "diverted_headers",
    "dlq_headers",
    "parked_headers",
    "retry_headers",
    "stack_trace",
]
