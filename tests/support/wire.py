"""Hand-built single-object messages: valid ones written by fastavro, and the spans of
their fields, so that strictness tests can replace one field's bytes with a mutation."""

from __future__ import annotations

import copy
from collections.abc import Callable
from io import BytesIO
from typing import Any

from fastavro import parse_schema, schemaless_writer
from fastavro.schema import fingerprint, to_parsing_canonical_form

from frontdesk.contracts.registry import SINGLE_OBJECT_MAGIC, SchemaVersion
from frontdesk.contracts.writer import write_long


def varint(value: int) -> bytes:
    """Avro's zig-zag varint of `value` (as an int or a long)."""
    out = bytearray()
    write_long(out, value)
    return bytes(out)


def overlong(value: int, size: int) -> bytes:
    """The varint of `value` padded with continuation bytes to `size` bytes."""
    raw = bytearray(varint(value))
    raw[-1] |= 0x80
    raw += b"\x80" * (size - len(raw) - 1) + b"\x00"
    return bytes(raw)


def message(version: SchemaVersion, datum: dict[str, Any]) -> bytes:
    """`datum` written by fastavro with `version`, behind its single-object header."""
    out = BytesIO()
    out.write(version.header)
    schemaless_writer(out, version.parsed, datum)
    return out.getvalue()


def single_object(schema: dict[str, Any], datum: dict[str, Any]) -> bytes:
    """`datum` written with any `schema` (say, a version no release ships), behind the
    single-object header of its fingerprint."""
    fp = bytes.fromhex(fingerprint(to_parsing_canonical_form(schema), "CRC-64-AVRO"))
    out = BytesIO()
    out.write(SINGLE_OBJECT_MAGIC + fp)
    schemaless_writer(out, parse_schema(copy.deepcopy(schema)), datum)
    return out.getvalue()


def field_spans(
    version: SchemaVersion, datum: dict[str, Any]
) -> list[tuple[dict[str, Any], int, int]]:
    """Each top-level field with where its encoding starts and ends in the message."""
    return record_spans(version.schema, datum, len(version.header))


def record_spans(
    schema: dict[str, Any], datum: dict[str, Any], start: int
) -> list[tuple[dict[str, Any], int, int]]:
    """Each field of the record `datum` written at `start`, with where its encoding starts
    and ends: a record is the concatenation of its fields, so a record of the first k fields
    ends at field k."""
    spans, origin = [], start
    fields = schema["fields"]
    for k, field in enumerate(fields, 1):
        prefix = {**schema, "fields": fields[:k]}
        out = BytesIO()
        schemaless_writer(out, prefix, {f["name"]: datum[f["name"]] for f in fields[:k]})
        end = origin + len(out.getvalue())
        spans.append((field, start, end))
        start = end
    return spans


def replace(data: bytes, span: tuple[int, int], new: bytes) -> bytes:
    """`data` with the bytes of `span` replaced by `new`."""
    return data[: span[0]] + new + data[span[1] :]


Draw = Callable[[int, int], int]
"""An integer between the two bounds (inclusive): Hypothesis's or a seeded `random`'s."""


def mutable_kind(schema: Any) -> str | None:
    """The kind of strictness mutation a field of `schema` takes, if any (F1-F6)."""
    if isinstance(schema, list):
        return "union"
    if isinstance(schema, dict):
        if schema.get("type") == "enum":
            return "enum"
        if schema.get("logicalType") == "decimal":
            return "decimal"
        if schema.get("type") in ("int", "long", "boolean") and "logicalType" not in schema:
            return str(schema["type"])
    if schema in ("int", "long", "boolean"):
        return str(schema)
    return None


def mutation(kind: str, draw: Draw) -> bytes:
    """Bytes the Java reference implementation reads wrongly or refuses, for a field of
    `kind`: a negative enum or union index, a boolean byte other than 0 or 1, an overlong
    int or long varint, a zero-length decimal. A union's replaces only its index."""
    match kind:
        case "enum" | "union":
            return varint(draw(-(2**31), -1))
        case "boolean":
            return bytes([draw(2, 255)])
        case "int":
            return overlong(0, draw(6, 20))
        case "long":
            return overlong(0, draw(11, 20))
        case "decimal":
            return varint(0)
    raise AssertionError(kind)


def mutate(
    version: SchemaVersion, datum: dict[str, Any], draw: Draw
) -> tuple[bytes, dict[str, Any]]:
    """A message of `datum` with one field of a mutable kind (drawn) mutated, and that field."""
    valid = message(version, datum)
    targets = [(f, s, e) for f, s, e in field_spans(version, datum) if mutable_kind(f["type"])]
    field, start, end = targets[draw(0, len(targets) - 1)]
    kind = mutable_kind(field["type"])
    assert kind is not None
    span_end = start + len(varint(0)) if kind == "union" else end
    return valid[:start] + mutation(kind, draw) + valid[span_end:], field
