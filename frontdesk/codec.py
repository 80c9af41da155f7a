"""Events to bytes and back: Avro single-object encoding against the shipped schemas.

Each message names its writer schema by fingerprint (`C3 01` + 8-byte little-endian
CRC-64-AVRO + Avro body), so a consumer decodes bytes from any producer version without a
schema-registry service: it finds the writer among all versions under `schemas/` and
resolves the data into the current version, which the model matches. Schemas are parsed
once, when the codec is built; encode and decode are on every producer's and worker's hot
path, so they do one dump/validate and one fastavro call each, nothing more.

Every failure to decode is a `DecodeError` carrying the raw bytes and a `reason`, which is
what the worker runtime needs to dead-letter the message untouched.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass
from io import BytesIO
from typing import Any

from fastavro import schemaless_reader, schemaless_writer
from pydantic import ValidationError

from frontdesk.contracts.registry import (
    SINGLE_OBJECT_MAGIC,
    SchemaRegistry,
    SchemaVersion,
    default_registry,
)
from frontdesk.contracts.writer import UnsupportedSchemaError, Writer, compile_writer
from frontdesk.errors import (
    BadMagicError,
    EventValidationError,
    InvalidEventError,
    MalformedEventError,
    SchemaError,
    TruncatedEventError,
    UnknownSchemaError,
)
from frontdesk.events import EVENT_TYPES, Event

HEADER_SIZE = 10
"""Magic (2 bytes) + fingerprint (8 bytes)."""


@dataclass(frozen=True, slots=True)
class _Writer:
    version: SchemaVersion
    write: Writer | None
    """The compiled writer, or None to fall back to fastavro."""


@dataclass(frozen=True, slots=True)
class _Reader:
    writer: SchemaVersion
    reader_schema: Any
    """The current version's parsed schema, or None when the writer is current."""
    model: type[Event]


class Codec:
    """Encodes events with their current schema; decodes any shipped version."""

    def __init__(
        self,
        registry: SchemaRegistry | None = None,
        models: Mapping[str, type[Event]] = EVENT_TYPES,
    ) -> None:
        self.registry = registry or default_registry()
        self._writers: dict[type[Event], _Writer] = {}
        self._readers: dict[bytes, _Reader] = {}
        for event_type in self.registry.event_types:
            latest = self.registry.latest(event_type)
            model = models.get(event_type)
            if model is None or model.schema_version != latest.version:
                raise SchemaError(
                    f"no model for {event_type} v{latest.version}: the generated models are "
                    "stale, run python -m frontdesk.contracts.generate"
                )
            self._writers[model] = _Writer(latest, _compile(latest))
            for sv in self.registry.versions(event_type):
                reader_schema = None if sv is latest else latest.parsed
                self._readers[sv.fingerprint] = _Reader(sv, reader_schema, model)

    def encode(self, event: Event) -> bytes:
        """The single-object encoding of `event`, written with its current schema."""
        writer = self._writers.get(type(event))
        if writer is None:
            raise EventValidationError(f"{type(event).__name__} is not a shipped event type")
        version = writer.version
        try:
            if writer.write is not None:
                buf = bytearray(version.header)
                writer.write(buf, event)
                return bytes(buf)
            out = BytesIO()
            out.write(version.header)
            schemaless_writer(out, version.parsed, event.model_dump())
            return out.getvalue()
        except (ValueError, TypeError, AttributeError, KeyError, OverflowError) as exc:
            # Only reachable for a model built without validation (model_construct/copy).
            raise EventValidationError(f"{version.event_type} cannot be encoded: {exc!r}") from exc

    def writer_of(self, data: bytes) -> SchemaVersion:
        """The schema version that wrote `data`, from its header alone."""
        return self._reader_for(data).writer

    def decode(self, data: bytes) -> Event:
        """The event in `data`, as the current model whichever version wrote it."""
        reader = self._reader_for(data)
        body = BytesIO(data)
        body.seek(HEADER_SIZE)
        writer = reader.writer
        try:
            record = schemaless_reader(body, writer.parsed, reader.reader_schema)
        except Exception as exc:  # fastavro signals bad input with many exception types
            if isinstance(exc, EOFError) or body.tell() >= len(data):
                raise TruncatedEventError(
                    f"{writer.event_type} v{writer.version} body ends early", raw=data
                ) from exc
            raise MalformedEventError(
                f"{writer.event_type} v{writer.version} body is not valid Avro: {exc!r}", raw=data
            ) from exc
        if body.tell() != len(data):
            raise MalformedEventError(
                f"{writer.event_type} v{writer.version}: "
                f"{len(data) - body.tell()} bytes after the body",
                raw=data,
            )
        try:
            return reader.model.model_validate(record)
        except ValidationError as exc:
            raise InvalidEventError(str(exc), raw=data) from exc

    def _reader_for(self, data: bytes) -> _Reader:
        if data[:2] != SINGLE_OBJECT_MAGIC[: len(data)]:
            raise BadMagicError(
                f"not an Avro single-object message (starts {data[:2].hex() or 'empty'})",
                raw=data,
            )
        if len(data) < HEADER_SIZE:
            raise TruncatedEventError(f"{len(data)} bytes, shorter than the header", raw=data)
        fingerprint = data[2:HEADER_SIZE]
        reader = self._readers.get(fingerprint)
        if reader is None:
            raise UnknownSchemaError(
                f"no shipped schema has fingerprint {fingerprint.hex()}",
                raw=data,
                fingerprint=fingerprint.hex(),
            )
        return reader


def _compile(version: SchemaVersion) -> Writer | None:
    try:
        return compile_writer(version.schema)
    except UnsupportedSchemaError:
        return None


@functools.cache
def default_codec() -> Codec:
    """The codec for the shipped schemas and models, built once per process."""
    return Codec()


def encode(event: Event) -> bytes:
    """`default_codec().encode(event)`."""
    return default_codec().encode(event)


def decode(data: bytes) -> Event:
    """`default_codec().decode(data)`."""
    return default_codec().decode(data)


__all__ = ["HEADER_SIZE", "Codec", "decode", "default_codec", "encode"]
