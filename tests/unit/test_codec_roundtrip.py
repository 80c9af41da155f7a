"""Any valid event of any type survives encode/decode unchanged, whoever writes the bytes.

Strategies are derived from the schemas (types, `frontdesk.format`, `frontdesk.min`, date
order), so a new event type is covered without touching this file.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from io import BytesIO
from typing import Any

import pytest
from fastavro import schemaless_reader, schemaless_writer
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from frontdesk.codec import decode, encode
from frontdesk.contracts import default_registry
from frontdesk.contracts.registry import PRIMITIVES, full_name
from frontdesk.events import EVENT_TYPES

_VISIBLE = st.characters(categories=("L", "N", "P", "S"))
_ONE_LINE = st.characters(exclude_categories=("Cs",), exclude_characters="\r\n")
_ZONES = st.sampled_from(
    [UTC, timezone(timedelta(hours=5, minutes=30)), timezone(-timedelta(hours=8))]
)


def _id() -> st.SearchStrategy[str]:
    inner = st.text(_ONE_LINE, max_size=20)
    return st.one_of(
        _VISIBLE,
        st.builds(lambda a, b, c: a + b + c, _VISIBLE, inner, _VISIBLE),
    )


def _string(field: dict[str, Any]) -> st.SearchStrategy[Any]:
    match field.get("frontdesk.format"):
        case "tenant_id":
            return st.from_regex(r"[a-z0-9][a-z0-9-]{0,62}", fullmatch=True)
        case "property_id":
            return st.text(
                st.characters(exclude_categories=("Cs", "Z", "Cc"), exclude_characters="/"),
                min_size=1,
                max_size=128,
            ).filter(lambda s: not any(c.isspace() for c in s))
        case "currency":
            return st.from_regex(r"[A-Z]{3}", fullmatch=True)
        case "id":
            return _id()
        case "text":
            return st.builds(lambda a, b: a + b, st.text(), _VISIBLE)
        case _:
            return st.text()


class _Strategies:
    def __init__(self) -> None:
        self.named: dict[str, Any] = {}

    def of(self, schema: Any, field: dict[str, Any], ns: str | None) -> st.SearchStrategy[Any]:
        if isinstance(schema, list):
            return st.one_of(*(self.of(branch, field, ns) for branch in schema))
        if isinstance(schema, str) and schema not in PRIMITIVES:
            return self.of(self.named[full_name(schema, ns)], field, ns)
        kind = schema if isinstance(schema, str) else schema["type"]
        logical = None if isinstance(schema, str) else schema.get("logicalType")
        minimum = field.get("frontdesk.min")
        if kind in ("record", "enum"):
            name = full_name(schema["name"], schema.get("namespace", ns))
            self.named[name] = schema
            ns = name.rpartition(".")[0]
        match kind, logical:
            case "record", _:
                return self.record(schema, ns)
            case "enum", _:
                return st.sampled_from(schema["symbols"])
            case "array", _:
                return st.lists(self.of(schema["items"], field, ns), max_size=3)
            case "map", _:
                return st.dictionaries(st.text(), self.of(schema["values"], field, ns), max_size=3)
            case "null", _:
                return st.none()
            case "boolean", _:
                return st.booleans()
            case "int", "date":
                return st.dates()
            case "long", "timestamp-millis":
                return st.datetimes(
                    min_value=datetime(1, 1, 2), max_value=datetime(9999, 12, 30), timezones=_ZONES
                )
            case "bytes", "decimal":
                precision, scale = int(schema["precision"]), int(schema["scale"])
                bound = Decimal(10 ** (precision - scale)) - Decimal(1).scaleb(-scale)
                return st.decimals(-bound, bound, places=scale, allow_nan=False)
            case "string", "uuid":
                return st.uuids()
            case "string", _:
                return _string(field)
            case "int", _:
                return st.integers(minimum if minimum is not None else -(2**31), 2**31 - 1)
            case "long", _:
                return st.integers(minimum if minimum is not None else -(2**63), 2**63 - 1)
        raise AssertionError(f"no strategy for {schema!r}")

    def record(self, schema: dict[str, Any], ns: str | None) -> st.SearchStrategy[Any]:
        fields = {f["name"]: self.of(f["type"], f, ns) for f in schema["fields"]}
        rules = [
            (f["name"], f[key], key == "frontdesk.before")
            for f in schema["fields"]
            for key in ("frontdesk.before", "frontdesk.not_after")
            if key in f
        ]

        def ordered(record: dict[str, Any]) -> bool:
            for first, second, strict in rules:
                early, late = record[first], record[second]
                if (
                    early is not None
                    and late is not None
                    and (late < early or (strict and late == early))
                ):
                    return False
            return True

        return st.fixed_dictionaries(fields).filter(ordered)


def event_records(event_type: str) -> st.SearchStrategy[dict[str, Any]]:
    schema = default_registry().latest(event_type).schema

    def name_it(record: dict[str, Any]) -> dict[str, Any]:
        record["meta"]["event_type"] = event_type
        return record

    return _Strategies().of(schema, {"name": event_type}, None).map(name_it)


@pytest.mark.parametrize("event_type", sorted(EVENT_TYPES))
@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_round_trip(event_type: str, data: st.DataObject) -> None:
    event = EVENT_TYPES[event_type].model_validate(data.draw(event_records(event_type)))
    wire = encode(event)
    assert decode(wire) == event

    latest = default_registry().latest(event_type)
    out = BytesIO()
    out.write(latest.header)
    schemaless_writer(out, latest.parsed, event.model_dump())
    # Equal bytes, except that negative decimals on a byte boundary (-1.28 as decimal(12,2))
    # are written in Java's minimal two's complement (80), fastavro's is one byte longer (ff80).
    theirs = schemaless_reader(BytesIO(out.getvalue()[10:]), latest.parsed)
    ours = schemaless_reader(BytesIO(wire[10:]), latest.parsed)
    assert ours == theirs, "compiled writer and fastavro disagree"
    assert len(wire) <= len(out.getvalue())


@settings(max_examples=60, deadline=None)
@given(data=st.data())
def test_v2_bytes_read_by_v1_reader_and_back(data: st.DataObject) -> None:
    event = EVENT_TYPES["BookingCreated"].model_validate(data.draw(event_records("BookingCreated")))
    v1 = default_registry().get("BookingCreated", 1)
    v2 = default_registry().get("BookingCreated", 2)
    old = schemaless_reader(BytesIO(encode(event)[10:]), v2.parsed, v1.parsed)
    assert old == event.model_dump(exclude={"special_requests", "loyalty_id"})
    out = BytesIO()
    out.write(v1.header)
    schemaless_writer(out, v1.parsed, old)
    upgraded = decode(out.getvalue())
    assert upgraded == event.model_copy(update={"special_requests": None, "loyalty_id": None})
