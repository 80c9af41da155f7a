"""What a replay yields: a decoded event in its Kafka envelope, or the raw bytes it failed on."""

from __future__ import annotations

import base64
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from frontdesk.events import Event


@dataclass(frozen=True, slots=True)
class Envelope:
    """Where and when a record sat on Kafka: enough to find it again with a consumer."""

    topic: str
    partition: int
    offset: int
    timestamp: datetime
    """The record's Kafka timestamp (producer create time unless the topic says otherwise)."""
    key: str | None
    headers: dict[str, str]
    """Header values as text; a repeated header keeps its last value, as the runtime reads it."""

    def to_dict(self) -> dict[str, Any]:
        return {
            "topic": self.topic,
            "partition": self.partition,
            "offset": self.offset,
            "timestamp": self.timestamp.isoformat(timespec="milliseconds"),
            "key": self.key,
            "headers": self.headers,
        }


@dataclass(frozen=True, slots=True)
class ReplayRecord:
    """One decoded event, read as the current model whichever schema version wrote it."""

    envelope: Envelope
    event: Event
    schema_version: int
    """The *writer's* schema version, so analysts can tell old producers' events apart."""

    @property
    def event_type(self) -> str:
        return self.event.event_type

    def payload(self) -> dict[str, Any]:
        """The whole event as JSON-ready data (decimals as strings, times as ISO-8601)."""
        return self.event.model_dump(mode="json")

    def to_dict(self) -> dict[str, Any]:
        """One JSONL line: the envelope, the event type, the writer version and the payload."""
        return {
            **self.envelope.to_dict(),
            "event_type": self.event_type,
            "schema_version": self.schema_version,
            "payload": self.payload(),
        }


@dataclass(frozen=True, slots=True)
class RawRecord:
    """A record that could not be decoded: kept byte for byte with the reason, never dropped."""

    envelope: Envelope
    value: bytes
    reason: str
    """The `DecodeError.reason` code (``bad_magic``, ``unknown_schema``, ...)."""
    error: str

    def to_dict(self) -> dict[str, Any]:
        return {
            **self.envelope.to_dict(),
            "reason": self.reason,
            "error": self.error,
            "value_base64": base64.b64encode(self.value).decode("ascii"),
        }
