"""Intake: what the runtime believes about a record before any handler sees it.

Every byte of a record is written by a tenant's code, which we do not control: the key, the
value and every header. `admit` is the one place that turns those bytes into either an
event the runtime may act on, or the reason it is dead-lettered. It is pure (no broker, no
clock), so the record path's decode/check/route decision is fuzzed as it runs
(tests/unit/test_worker_intake_fuzz.py). The rules:

* **Runtime headers are believed only where the runtime wrote them.** ``fd-attempt``,
  ``fd-due-at``, ``fd-holds``, ``fd-hold-id``, ``fd-original-*`` and the rest of
  `frontdesk.headers.RUNTIME` are read on retry-tier and parked records (the runtime
  produced them in its checkpoint transactions) and on records diverted to a fallback
  queue (``fd-diverted-from``). On any other main-topic record they are stripped before
  anything reads or forwards them: ``fd-attempt: 999`` there means attempt 1, and a forged
  ``fd-original-topic`` never reaches a dead letter.
* **A runtime header that cannot be parsed is dead-lettered** as ``bad_header``, never
  raised: a retry tier may be written by a dedicated tenant's own principal.
* **Key, topic, header and payload agree on the tenant.** The key is
  ``<tenant>/<property>`` of the payload's meta; a dedicated topic's tenant, the
  ``fd-tenant`` header (when present) and the payload's ``meta.tenant_id`` are the same.
  Otherwise ``tenant_mismatch``: the record holds nothing and reaches no handler, so a
  tenant cannot make the runtime act on (or hold) another tenant's key.
* Undecodable bytes get the codec's reason (``bad_magic``, ``unknown_schema``, ...); an
  event type the app has no handler for is ``no_handler``.
"""

from __future__ import annotations

import re
from collections.abc import Container, Sequence
from dataclasses import dataclass

from frontdesk import headers
from frontdesk.codec import Codec
from frontdesk.errors import DecodeError
from frontdesk.events import Event
from frontdesk.naming import TopicName, parse_topic
from frontdesk.queues import QueueType

MAX_ATTEMPT = 10_000
"""Far above any retry policy: an attempt count past it is forged, not counted."""
_ID_RE = re.compile(r"[0-9a-f]{32}")
_INTEGER_HEADERS = (
    headers.ORIGINAL_PARTITION,
    headers.ORIGINAL_OFFSET,
    headers.ORIGINAL_TIMESTAMP,
    headers.FIRST_FAILURE_AT,
    headers.LAST_FAILURE_AT,
    headers.DUE_AT,
    headers.PARKED_AT,
    headers.DIVERTED_AT,
)

REASONS = frozenset(
    {"bad_header", "tenant_mismatch", "no_handler", "bad_magic", "unknown_schema", "truncated"}
    | {"malformed", "invalid_event"}
)
"""Every reason `admit` may give (the codec's reasons among them)."""


class BadHeaderError(ValueError):
    """A runtime header on a runtime-written record cannot be parsed."""


class TenantMismatchError(ValueError):
    """Key, topic, ``fd-tenant`` header and payload do not name the same tenant/property."""


@dataclass(frozen=True, slots=True)
class Admitted:
    """A record the runtime may route to its handler."""

    event: Event
    headers: headers.Headers
    """The headers the runtime believes (runtime headers stripped on main topics)."""
    attempt: int
    """This delivery's attempt number (1 for a first delivery)."""

    @property
    def tenant_id(self) -> str:
        return self.event.meta.tenant_id


@dataclass(frozen=True, slots=True)
class Rejected:
    """A record that goes to the DLQ before any handler runs."""

    reason: str
    error: Exception
    headers: headers.Headers
    attempt: int
    tenant: str | None
    """The payload's tenant when it decoded, for metrics; else ``None``."""


def trusts_runtime_headers(info: TopicName | None, record_headers: headers.Headers) -> bool:
    """Whether the runtime wrote this record's runtime headers itself."""
    if info is None:
        return False
    if info.role in ("retry", "parked"):
        return True
    return (
        info.role == "main"
        and info.queue is QueueType.FALLBACK
        and headers.get(record_headers, headers.DIVERTED_FROM) is not None
    )


def believed_headers(
    info: TopicName | None, raw: Sequence[tuple[str, bytes | None]] | None
) -> headers.Headers:
    """The record's headers as the runtime may read and forward them."""
    kept: headers.Headers = [(k, v or b"") for k, v in (raw or []) if isinstance(k, str)]
    if trusts_runtime_headers(info, kept):
        if info is not None and info.role == "main":  # diverted: its tiers start afresh
            return [(k, v) for k, v in kept if k not in (headers.ATTEMPT, headers.DUE_AT)]
        return kept
    return [(k, v) for k, v in kept if k not in headers.RUNTIME]


def _count(record_headers: headers.Headers, name: str) -> int | None:
    raw = headers.get(record_headers, name)
    if raw is None:
        return None
    number = headers.whole_number(raw)
    if number is None:
        raise BadHeaderError(f"{name} is not a whole number: {raw[:64]!r}")
    return number


def check_runtime_headers(
    info: TopicName | None, record_headers: headers.Headers, latest_due_ms: int | None = None
) -> int:
    """Parse the runtime headers the runtime believes; the attempt number of this delivery.

    Raises `BadHeaderError` naming the first header that cannot be what the runtime wrote.
    ``latest_due_ms``: the latest ``fd-due-at`` the runtime could have written here.
    """
    attempts = _count(record_headers, headers.ATTEMPT) or 0
    if attempts >= MAX_ATTEMPT:
        raise BadHeaderError(f"{headers.ATTEMPT} {attempts} is past any retry policy")
    for name in _INTEGER_HEADERS:
        _count(record_headers, name)
    due = _count(record_headers, headers.DUE_AT)
    if due is not None and latest_due_ms is not None and due > latest_due_ms:
        raise BadHeaderError(f"{headers.DUE_AT} {due} is later than this tier can delay")
    for name in (headers.HOLDS, headers.HOLD_ID):
        raw = headers.get(record_headers, name)
        if raw is not None and not all(_ID_RE.fullmatch(i) for i in raw.split(",")):
            raise BadHeaderError(f"{name} is not a list of hold ids: {raw[:64]!r}")
    original = headers.get(record_headers, headers.ORIGINAL_TOPIC)
    if original is not None:
        namespace = info.namespace if info is not None else None
        parsed = parse_topic(original, namespace)
        if parsed is None or parsed.role != "main":
            raise BadHeaderError(f"{headers.ORIGINAL_TOPIC} is not a main topic: {original[:64]!r}")
        # Retries, parks and diversions stay with their owner: pooled with pooled, a
        # dedicated tenant's with that tenant's.
        if info is not None and parsed.tenant_id != info.tenant_id:
            owner = f"tenant {info.tenant_id}" if info.tenant_id else "the pooled tenants"
            raise BadHeaderError(f"{headers.ORIGINAL_TOPIC} {original!r} is not a topic of {owner}")
    return attempts + 1


def check_identity(
    event: Event, key: bytes | None, header_tenant: str | None, topic_tenant: str | None
) -> None:
    """Raise `TenantMismatchError` unless key, topic, header and payload agree."""
    meta = event.meta
    if topic_tenant is not None and topic_tenant != meta.tenant_id:
        raise TenantMismatchError(
            f"payload tenant {meta.tenant_id!r} on a topic of tenant {topic_tenant!r}"
        )
    if header_tenant is not None and header_tenant != meta.tenant_id:
        raise TenantMismatchError(
            f"payload tenant {meta.tenant_id!r} does not match header tenant {header_tenant!r}"
        )
    expected = event.key
    if key is None:
        raise TenantMismatchError(f"the record has no key (expected {expected!r})")
    if key != expected.encode():
        shown = key[:80].decode("utf-8", "replace")
        raise TenantMismatchError(
            f"key {shown!r} does not match payload tenant/property {expected!r}"
        )


def admit(
    *,
    info: TopicName | None,
    key: bytes | None,
    value: bytes | None,
    raw_headers: Sequence[tuple[str, bytes | None]] | None,
    codec: Codec,
    routes: Container[type[Event]],
    latest_due_ms: int | None = None,
) -> Admitted | Rejected:
    """Decode, check and route one record: `Admitted`, or `Rejected` with its reason."""
    believed = believed_headers(info, raw_headers)
    try:
        attempt = check_runtime_headers(info, believed, latest_due_ms)
    except BadHeaderError as exc:
        runtime_free = [(k, v) for k, v in believed if k not in headers.RUNTIME]
        return Rejected("bad_header", exc, runtime_free, 1, None)
    try:
        event = codec.decode(value or b"")
    except DecodeError as exc:
        return Rejected(exc.reason, exc, believed, attempt, None)
    tenant = event.meta.tenant_id
    try:
        check_identity(
            event,
            key,
            headers.get(believed, headers.TENANT),
            info.tenant_id if info is not None else None,
        )
    except TenantMismatchError as exc:
        return Rejected("tenant_mismatch", exc, believed, attempt, tenant)
    if type(event) not in routes:
        missing = LookupError(f"no handler for {event.event_type}")
        return Rejected("no_handler", missing, believed, attempt, tenant)
    return Admitted(event, believed, attempt)


__all__ = [
    "MAX_ATTEMPT",
    "REASONS",
    "Admitted",
    "BadHeaderError",
    "Rejected",
    "TenantMismatchError",
    "admit",
    "believed_headers",
    "check_identity",
    "check_runtime_headers",
    "trusts_runtime_headers",
]
