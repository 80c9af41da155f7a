"""A dead letter as read from its DLQ topic: raw bytes, headers, and views over them.

The worker runtime dead-letters the original key and value *untouched* and says why in
headers (see `frontdesk.headers`). Nothing here re-encodes the bytes: review shows a decoded
view when the codec can read the value, and the hex/base64 plus the decode error when it
cannot, so a poison record can be inspected exactly as it arrived.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from datetime import datetime
from functools import cached_property
from typing import Any

from frontdesk import headers as hdr
from frontdesk import naming
from frontdesk.codec import Codec, default_codec
from frontdesk.dlq.ids import DeadLetterId
from frontdesk.errors import DecodeError
from frontdesk.replay.timing import from_millis

ENVELOPE_HEADERS = hdr.ENVELOPE
"""Headers the producer set on the original event; a redrive carries exactly these over."""


@dataclass(frozen=True, slots=True)
class Decoded:
    """The value as an event (``payload``), or why it is not one (``error``)."""

    payload: dict[str, Any] | None
    schema_version: int | None
    error: str | None
    error_reason: str | None


def _text(raw: bytes | None) -> str | None:
    return None if raw is None else raw.decode("utf-8", errors="replace")


@dataclass(frozen=True, slots=True)
class Tenancy:
    """Whose dead letter this is, and whether what it says agrees with where it sits.

    Where a record sits is the one thing a tenant cannot forge: only tenant ``grand`` (and
    the runtime) may write to ``tenant.grand.*``. Key, ``fd-tenant`` header and payload are
    bytes the tenant chose. So a dedicated topic names the owner and every claim must agree
    with it; a pooled topic names no tenant, so its claims must agree among themselves. An
    unparseable topic owns nothing: only operators see such a record.
    """

    topic: naming.TopicName | None
    claims: tuple[tuple[str, str], ...]
    """(source, tenant) pairs: ``key``, ``header`` (each fd-tenant value), ``payload``."""

    @property
    def topic_tenant(self) -> str | None:
        return self.topic.tenant_id if self.topic is not None else None

    @property
    def claimed(self) -> frozenset[str]:
        return frozenset(t for _, t in self.claims)

    @property
    def owner(self) -> str | None:
        """The tenant the record belongs to: its dedicated topic's, else its sole claim."""
        if self.topic is None:
            return None
        if self.topic.tenant_id is not None:
            return self.topic.tenant_id
        return next(iter(self.claimed)) if len(self.claimed) == 1 else None

    @property
    def mismatch(self) -> bool:
        """True when key, header, payload (and a dedicated topic) do not all agree."""
        if self.topic_tenant is not None:
            return bool(self.claimed - {self.topic_tenant})
        return len(self.claimed) > 1

    @property
    def names(self) -> frozenset[str]:
        """Every tenant the record or its topic names (what a tenant filter matches)."""
        return self.claimed | ({self.topic_tenant} if self.topic_tenant else set())

    def describe(self) -> str:
        """``topic grand, key acme, header acme``: one line saying who claims what."""
        parts = [f"topic {self.topic_tenant}"] if self.topic_tenant else []
        parts += [f"{source} {tenant}" for source, tenant in self.claims]
        return ", ".join(parts) or "no tenant named anywhere"


@dataclass(frozen=True)
class DeadLetter:
    """One record of a DLQ topic."""

    id: DeadLetterId
    timestamp: datetime
    """The DLQ record's Kafka timestamp: when it was dead-lettered."""
    key: bytes | None
    value: bytes | None
    headers: tuple[tuple[str, bytes | None], ...]
    namespace: str | None = None
    """The topology's namespace, to parse the DLQ topic's name (and so its tenant)."""

    def header(self, name: str) -> str | None:
        return hdr.get(self.headers, name)

    @property
    def tenant(self) -> str | None:
        return self.header(hdr.TENANT)

    @property
    def event_type(self) -> str | None:
        return self.header(hdr.EVENT_TYPE)

    @property
    def event_id(self) -> str | None:
        return self.header(hdr.EVENT_ID)

    @property
    def reason(self) -> str | None:
        return self.header(hdr.REASON)

    @property
    def error_class(self) -> str | None:
        return self.header(hdr.ERROR_CLASS)

    @property
    def error_message(self) -> str | None:
        return self.header(hdr.ERROR_MESSAGE)

    @property
    def stack_trace(self) -> str | None:
        return self.header(hdr.STACK_TRACE)

    @property
    def original_topic(self) -> str | None:
        return self.header(hdr.ORIGINAL_TOPIC)

    @property
    def trace_id(self) -> str | None:
        """The fd-trace-id header, else the trace id inside ``traceparent``."""
        found = self.header(hdr.TRACE_ID)
        if found:
            return found
        parent = self.header(hdr.TRACEPARENT)
        parts = parent.split("-") if parent else []
        return parts[1] if len(parts) == 4 else None

    @property
    def attempt(self) -> int | None:
        return hdr.whole_number(self.header(hdr.ATTEMPT))

    @property
    def key_text(self) -> str | None:
        return _text(self.key)

    def history(self) -> dict[str, Any]:
        """What the headers say about the event's failures, times as aware datetimes."""

        def when(name: str) -> datetime | None:
            ms = hdr.whole_number(self.header(name))
            return from_millis(ms) if ms is not None else None

        return {
            "attempts": self.attempt,
            "original_topic": self.original_topic,
            "original_partition": self.header(hdr.ORIGINAL_PARTITION),
            "original_offset": self.header(hdr.ORIGINAL_OFFSET),
            "original_timestamp": when(hdr.ORIGINAL_TIMESTAMP),
            "first_failure_at": when(hdr.FIRST_FAILURE_AT),
            "last_failure_at": when(hdr.LAST_FAILURE_AT),
            "dead_lettered_at": when(hdr.DEAD_LETTERED_AT) or self.timestamp,
            "worker_id": self.header(hdr.WORKER_ID),
        }

    @cached_property
    def decoded(self) -> Decoded:
        return decode_value(self.value, default_codec())

    @cached_property
    def tenancy(self) -> Tenancy:
        """Who owns the record (from its topic first) and whether its claims agree."""
        claims: list[tuple[str, str]] = []
        key = self.key_text
        if key and "/" in key:
            claims.append(("key", key.split("/", 1)[0]))
        for name, raw in self.headers:
            if name == hdr.TENANT and raw:
                claims.append(("header", raw.decode("utf-8", errors="replace")))
        payload = self.decoded.payload
        meta = payload.get("meta") if payload else None
        if isinstance(meta, dict) and isinstance(meta.get("tenant_id"), str):
            claims.append(("payload", meta["tenant_id"]))
        topic = naming.parse_topic(self.id.topic, self.namespace)
        return Tenancy(topic, tuple(dict.fromkeys(claims)))

    def claimed_tenants(self) -> set[str]:
        """Every tenant the record names: header, key prefix and (if decodable) payload."""
        return set(self.tenancy.claimed)

    def owned_by(self, tenant: str) -> bool:
        """True when ``tenant`` owns the record and nothing in it names another tenant.

        A ``tenant_mismatch`` dead letter names two; tenant-scoped review must then refuse
        it, or one tenant would read another's payload.
        """
        tenancy = self.tenancy
        return not tenancy.mismatch and tenancy.owner == tenant

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: id, where, when, key, decoded payload (or raw + error), all headers."""
        decoded = self.decoded
        out: dict[str, Any] = {
            "id": str(self.id),
            "topic": self.id.topic,
            "partition": self.id.partition,
            "offset": self.id.offset,
            "timestamp": self.timestamp.isoformat(timespec="milliseconds"),
            "key": self.key_text,
            "tenant": self.tenant,
            "owner": self.tenancy.owner,
            "tenant_mismatch": self.tenancy.describe() if self.tenancy.mismatch else None,
            "event_type": self.event_type,
            "event_id": self.event_id,
            "reason": self.reason,
            "error_class": self.error_class,
            "error_message": self.error_message,
            "attempt": self.attempt,
            "original_topic": self.original_topic,
            "trace_id": self.trace_id,
            "headers": {k: _text(v) for k, v in self.headers},
            "schema_version": decoded.schema_version,
            "payload": decoded.payload,
        }
        if decoded.payload is None:
            value = self.value or b""
            out["decode_error"] = decoded.error
            out["decode_reason"] = decoded.error_reason
            out["value_hex"] = value.hex()
            out["value_base64"] = base64.b64encode(value).decode("ascii")
        return out


def decode_value(value: bytes | None, codec: Codec) -> Decoded:
    """Decode with ``codec``; a decode failure is data to show, not an exception."""
    if value is None:
        return Decoded(None, None, "the record has no value (a tombstone)", "empty")
    try:
        event = codec.decode(value)
        version = codec.writer_of(value).version
    except DecodeError as exc:
        return Decoded(None, None, str(exc), exc.reason)
    return Decoded(event.model_dump(mode="json"), version, None, None)
