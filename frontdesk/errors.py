"""The errors frontdesk raises, as a small hierarchy callers can route on.

The worker runtime sends every `DecodeError` straight to the dead-letter queue (retrying
cannot fix bytes), and the DLQ records its `reason` code, so the codes are part of the
operator-facing contract: keep them stable. Each error keeps the raw bytes it failed on so
the DLQ can forward them untouched, and is raised `from` the library error it wraps.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pydantic import ValidationError


class FrontdeskError(Exception):
    """Base of every error frontdesk raises on purpose."""


class DecodeError(FrontdeskError):
    """Bytes from Kafka could not be turned into an event."""

    reason: str = "malformed"

    def __init__(self, message: str, *, raw: bytes) -> None:
        super().__init__(message)
        self.raw = raw


class BadMagicError(DecodeError):
    """The bytes do not start with the Avro single-object marker C3 01."""

    reason = "bad_magic"


class UnknownSchemaError(DecodeError):
    """The writer's schema fingerprint matches no shipped schema version."""

    reason = "unknown_schema"

    def __init__(self, message: str, *, raw: bytes, fingerprint: str) -> None:
        super().__init__(message, raw=raw)
        self.fingerprint = fingerprint
        """The 8 fingerprint bytes as written on the wire, in hex."""


class TruncatedEventError(DecodeError):
    """The bytes end before the header or the Avro body does."""

    reason = "truncated"


class MalformedEventError(DecodeError):
    """The body does not parse with the writer's schema, or breaks a rule the Java reference
    implementation enforces (enum/union index, boolean byte, overlong varint, UUID form,
    decimal size) or a size limit of the contract; `field` names where, when known."""

    reason = "malformed"

    def __init__(self, message: str, *, raw: bytes, field: str | None = None) -> None:
        super().__init__(message, raw=raw)
        self.field = field
        """Dotted path of the offending field, e.g. `meta.event_id`, if known."""


class InvalidEventError(DecodeError):
    """The body is valid Avro but the event breaks a model rule (pattern, range, order)."""

    reason = "invalid_event"


class EventValidationError(FrontdeskError):
    """An event was refused before it was sent; the message names the offending field."""

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field
        """Dotted path of the first offending field, e.g. `meta.tenant_id`, if known."""

    @classmethod
    def from_pydantic(cls, exc: ValidationError) -> EventValidationError:
        """Wrap a model's validation error (raise it `from exc`), keeping pydantic's text."""
        errors = exc.errors()
        field = ".".join(str(part) for part in errors[0]["loc"]) if errors else None
        return cls(str(exc), field=field or None)


class SchemaError(FrontdeskError):
    """The schema directory is unusable: a file is missing, malformed or breaks a rule."""


class SchemaCompatibilityError(SchemaError):
    """A newer schema version cannot read older data (or, when declared, the reverse)."""

    def __init__(self, issues: list[str]) -> None:
        super().__init__("incompatible schema change:\n  " + "\n  ".join(issues))
        self.issues = issues


class DeliveryError(FrontdeskError):
    """An event was not confirmed by Kafka; `event_id` says which one, `error` why.

    Raised by a delivery handle's `result()`, by `flush()` for failures nobody collected,
    and when the producer's bounded buffer stays full past its timeout (no Kafka error then).
    """

    def __init__(
        self, message: str, *, event_id: str, topic: str, error: object | None = None
    ) -> None:
        super().__init__(message)
        self.event_id = event_id
        self.topic = topic
        self.error = error
        """The librdkafka `KafkaError`, when Kafka reported one."""

    @property
    def retriable(self) -> bool:
        """Whether sending the same event again may succeed (Kafka's own verdict)."""
        check = getattr(self.error, "retriable", None)
        return bool(check()) if callable(check) else self.error is None


__all__ = [
    "BadMagicError",
    "DecodeError",
    "DeliveryError",
    "EventValidationError",
    "FrontdeskError",
    "InvalidEventError",
    "MalformedEventError",
    "SchemaCompatibilityError",
    "SchemaError",
    "TruncatedEventError",
    "UnknownSchemaError",
]
