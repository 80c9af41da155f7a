"""Events to bytes and back: Avro single-object encoding against the shipped schemas.

Each message names its writer schema by fingerprint (`C3 01` + 8-byte little-endian
CRC-64-AVRO + Avro body). A consumer finds the writer among all versions under `schemas/`
or, for a version newer than it ships, in the schemas topic
(`frontdesk.contracts.schemas_topic`, given with `with_schemas`), and resolves the data
into its current version, which the model matches. Schemas are parsed once per writer.

Decoding is as strict as the Java reference implementation and bounded in cost: a strict
pass (`frontdesk.contracts.strict`) checks the body against the writer schema in linear
time before fastavro decodes it. Every failure to decode is a `DecodeError` carrying the
raw bytes and a `reason`, which is what the worker runtime needs to dead-letter the
message untouched.
"""

from __future__ import annotations

import copy
import functools
import json
from collections.abc import Mapping
from dataclasses import dataclass
from io import BytesIO
from pathlib import Path
from typing import Any, Protocol

from fastavro import parse_schema, schemaless_reader, schemaless_writer
from fastavro.schema import to_parsing_canonical_form
from pydantic import ValidationError

from frontdesk.contracts.registry import (
    SINGLE_OBJECT_MAGIC,
    SchemaRegistry,
    SchemaVersion,
    default_registry,
    full_name,
)
from frontdesk.contracts.strict import BodyTooShort, Check, StrictError, compile_check
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

PUBLISHED_VERSION = 0
"""The `version` of a writer learnt from the schemas topic: the consumer does not ship it,
so it has no version number, only its fingerprint."""


class SchemaLookup(Protocol):
    """Where writer schemas this codec does not ship are found (the schemas topic)."""

    def lookup(self, fp: bytes) -> str | None:
        """The writer schema JSON whose fingerprint is `fp`, if anyone published it."""


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
    check: Check
    """The strict pass over a body of the writer schema."""


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
        self._by_name: dict[str, tuple[SchemaVersion, type[Event]]] = {}
        self._schemas: SchemaLookup | None = None
        for event_type in self.registry.event_types:
            latest = self.registry.latest(event_type)
            model = models.get(event_type)
            if model is None or model.schema_version != latest.version:
                raise SchemaError(
                    f"no model for {event_type} v{latest.version}: the generated models are "
                    "stale, run python -m frontdesk.contracts.generate"
                )
            self._writers[model] = _Writer(latest, _compile(latest))
            self._by_name[_record_name(latest.schema)] = (latest, model)
            for sv in self.registry.versions(event_type):
                reader_schema = None if sv is latest else latest.parsed
                self._readers[sv.fingerprint] = _Reader(
                    sv, reader_schema, model, compile_check(sv.schema)
                )

    def model_of(self, event_type: str) -> type[Event]:
        """The model this codec decodes `event_type` into (its current version)."""
        return self._by_name[_record_name(self.registry.latest(event_type).schema)][1]

    def with_schemas(self, schemas: SchemaLookup) -> Codec:
        """This codec, also reading writers it does not ship that `schemas` knows."""
        other = copy.copy(self)
        other._readers = dict(self._readers)
        other._schemas = schemas
        return other

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
        writer = reader.writer
        try:
            end = reader.check(data, HEADER_SIZE)
        except BodyTooShort:
            raise TruncatedEventError(
                f"{writer.event_type} v{writer.version} body ends early", raw=data
            ) from None
        except StrictError as exc:
            raise MalformedEventError(
                f"{writer.event_type} v{writer.version}: {exc}", raw=data, field=exc.field
            ) from exc
        if end != len(data):
            raise MalformedEventError(
                f"{writer.event_type} v{writer.version}: {len(data) - end} bytes after the body",
                raw=data,
            )
        body = BytesIO(data)
        body.seek(HEADER_SIZE)
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
        reader = self._readers.get(fingerprint) or self._published(fingerprint)
        if reader is None:
            where = "shipped or published" if self._schemas is not None else "shipped"
            raise UnknownSchemaError(
                f"no {where} schema has fingerprint {fingerprint.hex()}",
                raw=data,
                fingerprint=fingerprint.hex(),
            )
        return reader

    def _published(self, fingerprint: bytes) -> _Reader | None:
        """A reader for a writer found in the schemas topic, resolved into the current
        version of the event type of the same record name; cached."""
        if self._schemas is None:
            return None
        text = self._schemas.lookup(fingerprint)
        if text is None:
            return None
        schema = json.loads(text)
        name = _record_name(schema) if isinstance(schema, dict) else None
        current = self._by_name.get(name or "")
        if current is None:
            return None
        latest, model = current
        try:
            parsed = parse_schema(copy.deepcopy(schema))
            check = compile_check(schema)
        except Exception:  # a verified canonical form fastavro cannot use: not readable
            return None
        writer = SchemaVersion(
            event_type=latest.event_type,
            version=PUBLISHED_VERSION,
            schema=schema,
            parsed=parsed,
            canonical_form=to_parsing_canonical_form(schema),
            fingerprint=fingerprint,
            header=SINGLE_OBJECT_MAGIC + fingerprint,
            queue=latest.queue,
            ordered=latest.ordered,
            compatibility=latest.compatibility,
            path=Path(f"<published {fingerprint.hex()}>"),
        )
        reader = _Reader(writer, latest.parsed, model, check)
        self._readers[fingerprint] = reader
        return reader


def _record_name(schema: dict[str, Any]) -> str:
    return full_name(str(schema.get("name")), schema.get("namespace"))


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


__all__ = [
    "HEADER_SIZE",
    "PUBLISHED_VERSION",
    "Codec",
    "SchemaLookup",
    "decode",
    "default_codec",
    "encode",
]
