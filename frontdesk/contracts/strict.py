"""A strict, bounded pass over an Avro body before fastavro decodes it.

fastavro reads what the Java reference implementation refuses (a negative enum or union
index, a boolean byte other than 0 or 1, varints longer than 10 bytes, a UUID string that
`uuid.UUID` happens to accept, a zero-length decimal), and its decimal decoding is
quadratic in the byte length, so one 1 MB record could hold a worker's event loop for a
minute. This module walks the body once with the writer schema, in time linear in its
length, and refuses:

- an enum index outside the symbols, a union index outside the branches;
- a boolean byte other than 0 or 1;
- a varint longer than 5 bytes (int) or 10 bytes (long), or a value outside the 32/64-bit
  range;
- a negative length;
- a UUID string that is not the 36-character 8-4-4-4-12 hex form (either case, as Java's
  `UUID.fromString` reads it; Java's lenient shortened forms like `1-1-1-1-1` are refused);
- a decimal of zero bytes, or longer than its declared precision can need;
- a string or bytes value longer than the field's `frontdesk.max_length` (bytes), and an
  array or map with more items than its `frontdesk.max_items`, or than the defaults below.

Only then does fastavro decode (and resolve) the body, which is now known to be well formed
and small. A problem is reported with the dotted path of the field, e.g. `meta.event_id`.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

DEFAULT_MAX_LENGTH = 65_536
"""Bytes a string or bytes value may have unless its field sets `frontdesk.max_length`."""
DEFAULT_MAX_ITEMS = 10_000
"""Items an array or map may have unless its field sets `frontdesk.max_items`."""

_INT_BYTES, _LONG_BYTES = 5, 10
_INT_RANGE = (-(2**31), 2**31 - 1)
_LONG_RANGE = (-(2**63), 2**63 - 1)
_UUID = re.compile(rb"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
_PRIMITIVE_NAMES = frozenset(
    {"null", "boolean", "int", "long", "float", "double", "bytes", "string"}
)

Check = Callable[[bytes, int], int]
"""Checks the datum starting at an offset and returns the offset after it."""


class StrictError(Exception):
    """The body breaks a rule; `path` names the field, innermost last."""

    def __init__(self, problem: str) -> None:
        super().__init__(problem)
        self.problem = problem
        self.path: list[str] = []

    @property
    def field(self) -> str:
        return ".".join(reversed(self.path)) or "<body>"

    def __str__(self) -> str:
        return f"field {self.field}: {self.problem}"


class BodyTooShort(Exception):
    """The body ends before the datum does."""


def compile_check(schema: Any) -> Check:
    """The strict check of a datum of `schema` (expanded or canonical schema JSON)."""
    return _Compiler().compile(schema, None, {})


def decimal_max_bytes(precision: int) -> int:
    """The most bytes a two's-complement unscaled value of `precision` digits needs."""
    largest: int = 10**precision - 1
    return largest.bit_length() // 8 + 1


def _varint(
    data: bytes, pos: int, max_bytes: int, bounds: tuple[int, int], what: str
) -> tuple[int, int]:
    try:
        b: int = data[pos]
        if b < 0x80:
            return (b >> 1) ^ -(b & 1), pos + 1
        n = b & 0x7F
        shift = 7
        end = pos + max_bytes
        pos += 1
        while True:
            b = data[pos]
            pos += 1
            n |= (b & 0x7F) << shift
            if b < 0x80:
                break
            shift += 7
            if pos >= end:
                raise StrictError(f"{what} varint longer than {max_bytes} bytes")
    except IndexError:
        raise BodyTooShort from None
    value = (n >> 1) ^ -(n & 1)
    if not bounds[0] <= value <= bounds[1]:
        raise StrictError(f"{what} {value} out of range")
    return value, pos


def read_long(data: bytes, pos: int) -> tuple[int, int]:
    return _varint(data, pos, _LONG_BYTES, _LONG_RANGE, "long")


def read_int(data: bytes, pos: int) -> tuple[int, int]:
    return _varint(data, pos, _INT_BYTES, _INT_RANGE, "int")


def _sized(data: bytes, pos: int, limit: int, what: str) -> tuple[int, int]:
    """The start and end of a length-prefixed value of at most `limit` bytes."""
    size, pos = read_long(data, pos)
    if size < 0:
        raise StrictError(f"negative {what} length {size}")
    if size > limit:
        raise StrictError(f"{what} of {size} bytes, over the limit of {limit}")
    end = pos + size
    if end > len(data):
        raise BodyTooShort
    return pos, end


class _Compiler:
    def __init__(self) -> None:
        self.named: dict[str, Check] = {}

    def compile(self, schema: Any, ns: str | None, field: dict[str, Any]) -> Check:
        if isinstance(schema, list):
            return self.union([self.compile(b, ns, field) for b in schema])
        if isinstance(schema, str):
            if schema in _PRIMITIVE_NAMES:
                return self.primitive(schema, None, {}, field)
            return self.reference(schema if "." in schema or not ns else f"{ns}.{schema}", schema)
        kind = schema["type"]
        if isinstance(kind, (dict, list)):
            return self.compile(kind, ns, field)
        if kind in ("record", "error", "enum", "fixed"):
            full = schema["name"]
            if "." not in full:
                space = schema.get("namespace", ns)
                full = f"{space}.{full}" if space else full
            inner = full.rpartition(".")[0] or None
            if kind == "enum":
                check = self.enum(len(schema["symbols"]))
            elif kind == "fixed":
                check = self.fixed(int(schema["size"]))
            else:
                check = self.record(schema, inner)
            self.named[full] = check
            return check
        if kind == "array":
            return self.items(self.compile(schema["items"], ns, field), None, field)
        if kind == "map":
            keys = self.primitive("string", None, {}, field)
            return self.items(self.compile(schema["values"], ns, field), keys, field)
        return self.primitive(kind, schema.get("logicalType"), schema, field)

    def reference(self, name: str, written: str) -> Check:
        """A named type, looked up when called: a record may refer to itself."""
        table = self.named

        def check(data: bytes, pos: int) -> int:
            return (table.get(name) or table[written])(data, pos)

        return check

    def record(self, schema: dict[str, Any], ns: str | None) -> Check:
        fields = [(f["name"], self.compile(f["type"], ns, f)) for f in schema["fields"]]

        def check(data: bytes, pos: int) -> int:
            for name, field_check in fields:
                try:
                    pos = field_check(data, pos)
                except StrictError as exc:
                    exc.path.append(name)
                    raise
            return pos

        return check

    def enum(self, count: int) -> Check:
        def check(data: bytes, pos: int) -> int:
            index, pos = read_int(data, pos)
            if not 0 <= index < count:
                raise StrictError(f"enum index {index} outside the {count} symbols")
            return pos

        return check

    def fixed(self, size: int) -> Check:
        def check(data: bytes, pos: int) -> int:
            if pos + size > len(data):
                raise BodyTooShort
            return pos + size

        return check

    def union(self, branches: list[Check]) -> Check:
        count = len(branches)

        def check(data: bytes, pos: int) -> int:
            index, pos = read_int(data, pos)
            if not 0 <= index < count:
                raise StrictError(f"union index {index} outside the {count} branches")
            return branches[index](data, pos)

        return check

    def items(self, item: Check, key: Check | None, field: dict[str, Any]) -> Check:
        limit = int(field.get("frontdesk.max_items", DEFAULT_MAX_ITEMS))

        def check(data: bytes, pos: int) -> int:
            total = 0
            while True:
                count, pos = read_long(data, pos)
                if count == 0:
                    return pos
                if count < 0:  # a block with its byte size: the size only helps skipping
                    count = -count
                    _, pos = read_long(data, pos)
                total += count
                if total > limit:
                    raise StrictError(f"more than {limit} items")
                for _ in range(count):
                    if key is not None:
                        pos = key(data, pos)
                    pos = item(data, pos)

        return check

    def primitive(
        self, kind: str, logical: Any, schema: dict[str, Any], field: dict[str, Any]
    ) -> Check:
        limit = int(field.get("frontdesk.max_length", DEFAULT_MAX_LENGTH))
        if kind == "bytes" and logical == "decimal":
            return self.decimal(decimal_max_bytes(int(schema["precision"])))
        if kind == "string" and logical == "uuid":
            return _uuid
        match kind:
            case "null":
                return lambda data, pos: pos
            case "boolean":
                return _boolean
            case "int":
                return lambda data, pos: read_int(data, pos)[1]
            case "long":
                return lambda data, pos: read_long(data, pos)[1]
            case "float":
                return self.fixed(4)
            case "double":
                return self.fixed(8)
            case "string" | "bytes":
                return lambda data, pos: _sized(data, pos, limit, kind)[1]
        raise ValueError(f"not an Avro type: {kind!r}")

    def decimal(self, limit: int) -> Check:
        def check(data: bytes, pos: int) -> int:
            start, end = _sized(data, pos, limit, "decimal")
            if start == end:
                raise StrictError("decimal of zero bytes")
            return end

        return check


def _boolean(data: bytes, pos: int) -> int:
    try:
        b = data[pos]
    except IndexError:
        raise BodyTooShort from None
    if b > 1:
        raise StrictError(f"boolean byte {b:#04x}, not 0 or 1")
    return pos + 1


def _uuid(data: bytes, pos: int) -> int:
    start, end = _sized(data, pos, 36, "uuid")
    if end - start != 36 or not _UUID.fullmatch(data, start, end):
        raise StrictError(f"uuid {bytes(data[start:end])!r} is not in 8-4-4-4-12 hex form")
    return end


__all__ = [
    "DEFAULT_MAX_ITEMS",
    "DEFAULT_MAX_LENGTH",
    "BodyTooShort",
    "Check",
    "StrictError",
    "compile_check",
    "decimal_max_bytes",
]
