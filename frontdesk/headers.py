"""Kafka header names: the envelope every frontdesk record carries, in one place.

Headers repeat what routing, filtering and review need without decoding the payload (tenant,
event type, event id, schema fingerprint), carry W3C trace context, and, on retry and DLQ
records, the history of the event's failures. Values are UTF-8 strings; times are
milliseconds since the epoch, written as decimal strings.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

# -- on every event (set by the producer) -------------------------------------------------
TENANT = "fd-tenant"
EVENT_TYPE = "fd-event-type"
EVENT_ID = "fd-event-id"
SCHEMA_FINGERPRINT = "fd-schema"
"""Hex of the writer schema's CRC-64-AVRO fingerprint (also inside the body's header)."""
TRACEPARENT = "traceparent"
TRACESTATE = "tracestate"

# -- on retry, parked and DLQ records (set by the worker runtime) -------------------------
ATTEMPT = "fd-attempt"
"""How many times the event has been handled so far (1 after the first failure)."""
ORIGINAL_TOPIC = "fd-original-topic"
ORIGINAL_PARTITION = "fd-original-partition"
ORIGINAL_OFFSET = "fd-original-offset"
ORIGINAL_TIMESTAMP = "fd-original-timestamp"
FIRST_FAILURE_AT = "fd-first-failure-at"
LAST_FAILURE_AT = "fd-last-failure-at"
DUE_AT = "fd-due-at"
"""When a retry tier may run the event again (ms since epoch)."""
ERROR_CLASS = "fd-error-class"
ERROR_MESSAGE = "fd-error-message"
STACK_TRACE = "fd-stack-trace"
REASON = "fd-reason"
"""Why a record is in the DLQ: ``retries_exhausted``, ``non_retryable``, ``bad_magic``,
``unknown_schema``, ``truncated``, ``malformed``, ``invalid_event``, ``tenant_mismatch``,
``no_handler``, ``bad_header``, ``too_large``, ``internal_error``, ..."""
WORKER_ID = "fd-worker-id"
DEAD_LETTERED_AT = "fd-dead-lettered-at"
TRACE_ID = "fd-trace-id"
DIVERTED_FROM = "fd-diverted-from"
"""On a record diverted to the fallback queue: the main topic it was diverted from."""
DEPENDENCY = "fd-dependency"
"""The dependency whose circuit breaker was open when the record was diverted."""
DROPPED_BYTES = "fd-dropped-bytes"
"""On a ``too_large`` dead letter: the size of the payload that was dropped to make it fit."""
DIVERTED_AT = "fd-diverted-at"
DIVERT_REASON = "fd-divert-reason"

# -- held keys of ordered event types (set by the worker runtime) --------------------------
HOLDS = "fd-holds"
"""Comma-separated ids of the holds this record is the *holder* of: the ordered event that
went to a retry tier, the DLQ or the fallback queue while later events of its key wait.
Whoever handles it successfully reports so on the held-keys state topic."""
HOLD_ID = "fd-hold-id"
"""On a parked record: the hold it is parked behind."""
PARKED_BY = "fd-parked-by"
"""On a parked record: the consumer group that parked it (parked topics are shared)."""
PARKED_AT = "fd-parked-at"

# -- on redriven records (set by ``frontdesk dlq redrive``) --------------------------------
REDRIVEN_FROM = "fd-redriven-from"
"""The dead-letter id (``<dlq topic>:<partition>:<offset>``) a redriven record came from, so
the runtime and a reader can tell a redrive from a first delivery and find its history."""
REDRIVEN_AT = "fd-redriven-at"

ENVELOPE = frozenset({TENANT, EVENT_TYPE, EVENT_ID, SCHEMA_FINGERPRINT, TRACEPARENT, TRACESTATE})
"""Headers the producer sets on every event."""

RUNTIME = frozenset(
    {
        ATTEMPT,
        ORIGINAL_TOPIC,
        ORIGINAL_PARTITION,
        ORIGINAL_OFFSET,
        ORIGINAL_TIMESTAMP,
        FIRST_FAILURE_AT,
        LAST_FAILURE_AT,
        DUE_AT,
        ERROR_CLASS,
        ERROR_MESSAGE,
        STACK_TRACE,
        REASON,
        WORKER_ID,
        DEAD_LETTERED_AT,
        DROPPED_BYTES,
        TRACE_ID,
        DIVERTED_FROM,
        DEPENDENCY,
        DIVERTED_AT,
        DIVERT_REASON,
        HOLDS,
        HOLD_ID,
        PARKED_BY,
        PARKED_AT,
    }
)
"""Headers only the worker runtime writes. It believes them only on the retry and parked
records (and diverted fallback records) it produced itself; on a record a tenant produced to
a main topic they are stripped before anything reads them (`frontdesk.worker.intake`)."""

Headers = list[tuple[str, bytes]]

_WHOLE_NUMBER = re.compile(r"[0-9]{1,19}")


def whole_number(text: object) -> int | None:
    """``text`` as the runtime writes counts, offsets and times (1-19 ASCII digits), else
    ``None``. Headers and review records are whatever their writer chose: ``int`` also takes
    blanks, ``_`` and other scripts' digits (``str.isdigit`` even ``²``, which ``int`` then
    refuses), and a 5000-digit number is over ``int``'s limit."""
    if not isinstance(text, str) or _WHOLE_NUMBER.fullmatch(text) is None:
        return None
    return int(text)


def get(headers: Sequence[tuple[str, bytes | None]] | None, name: str) -> str | None:
    """The last value of header ``name`` as text, or ``None``.

    The last one wins because a record forwarded through several tiers may carry a header
    more than once; the runtime replaces rather than appends, but readers stay tolerant.
    """
    if not headers:
        return None
    value: str | None = None
    for key, raw in headers:
        if key == name:
            value = None if raw is None else raw.decode("utf-8", errors="replace")
    return value


def replace(
    headers: Sequence[tuple[str, bytes | None]] | None, updates: Mapping[str, str]
) -> Headers:
    """Copy ``headers`` with each name in ``updates`` set to its new value (once)."""
    kept = [(k, v or b"") for k, v in (headers or []) if k not in updates]
    return kept + [(k, v.encode()) for k, v in updates.items()]
