"""Decoding is as strict as the Java reference implementation (F1-F6 of issue 10), bounded
in cost by the contract's limits, and the writer refuses what it cannot write faithfully.

Each rejection is a `MalformedEventError` naming the field. The Hypothesis suite mutates
valid messages of every type at a field of the mutated kind and asserts the rejection."""

from __future__ import annotations

import random
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from frontdesk.codec import decode, encode
from frontdesk.contracts import default_registry
from frontdesk.contracts.samples import sample_event
from frontdesk.contracts.strict import (
    DEFAULT_MAX_ITEMS,
    DEFAULT_MAX_LENGTH,
    StrictError,
    compile_check,
    decimal_max_bytes,
)
from frontdesk.contracts.writer import decimal_bytes
from frontdesk.errors import DecodeError, EventValidationError, MalformedEventError
from tests.support.events import booking
from tests.support.wire import (
    field_spans,
    message,
    mutable_kind,
    mutate,
    overlong,
    replace,
    varint,
)

REGISTRY = default_registry()


def assert_malformed(data: bytes, field: str) -> MalformedEventError:
    with pytest.raises(MalformedEventError) as caught:
        decode(data)
    assert caught.value.reason == "malformed"
    assert caught.value.field == field, str(caught.value)
    assert field in str(caught.value)
    return caught.value


def _booking_fields() -> tuple[bytes, dict[str, tuple[int, int]]]:
    version = REGISTRY.latest("BookingCreated")
    datum = booking(unit_id="U1").model_dump()
    data = message(version, datum)
    return data, {f["name"]: (s, e) for f, s, e in field_spans(version, datum)}


def test_f1_negative_enum_index() -> None:
    data, spans = _booking_fields()
    assert_malformed(replace(data, spans["status"], varint(-1)), "status")
    assert_malformed(replace(data, spans["status"], varint(3)), "status")


def test_f2_negative_union_index() -> None:
    data, spans = _booking_fields()
    start, _ = spans["unit_id"]
    assert_malformed(data[:start] + varint(-1) + data[start + 1 :], "unit_id")
    assert_malformed(data[:start] + varint(2) + data[start + 1 :], "unit_id")


def test_f3_boolean_byte_other_than_0_or_1() -> None:
    check = compile_check(
        {"type": "record", "name": "R", "fields": [{"name": "b", "type": "boolean"}]}
    )
    assert check(b"\x01", 0) == 1
    with pytest.raises(StrictError, match="boolean byte 0x02") as caught:
        check(b"\x02", 0)
    assert caught.value.field == "b"


def test_f4_overlong_varints() -> None:
    data, spans = _booking_fields()
    assert_malformed(replace(data, spans["adults"], overlong(2, 6)), "adults")  # int: over 5 bytes
    assert_malformed(replace(data, spans["adults"], varint(2**31)), "adults")  # int out of range
    assert decode(replace(data, spans["adults"], overlong(2, 5))).adults == 2  # as Java
    meta_long = {"type": "record", "name": "R", "fields": [{"name": "n", "type": "long"}]}
    check = compile_check(meta_long)
    assert check(overlong(7, 10), 0) == 10
    for size in (11, 20):
        with pytest.raises(StrictError, match="longer than 10 bytes"):
            check(overlong(7, size), 0)


@pytest.mark.parametrize(
    "bad",
    [
        "00000000_0000-4000-8000-000000000001",
        " 0000000-0000-4000-8000-000000000001",
        "00000000-0000-4000-8000-00000000000g",
        "000000000000-4000-8000-0000000000001",
    ],
)
def test_f5_malformed_uuid(bad: str) -> None:
    data, _ = _booking_fields()
    good = data[10:][1:37]
    assert len(bad) == 36
    assert_malformed(data.replace(good, bad.encode(), 1), "meta.event_id")


def test_uuid_in_either_case_reads_as_java_reads_it() -> None:
    data, _ = _booking_fields()
    good = data[10:][1:37]
    assert decode(data.replace(good, good.upper(), 1)).meta.event_id == decode(data).meta.event_id


def test_f6_zero_length_decimal() -> None:
    data, spans = _booking_fields()
    assert_malformed(replace(data, spans["total_amount"], varint(0)), "total_amount")


def test_decimal_longer_than_its_precision_needs() -> None:
    data, spans = _booking_fields()
    limit = decimal_max_bytes(12)
    assert limit == 6
    error = assert_malformed(
        replace(data, spans["total_amount"], varint(limit + 1) + b"\x01" * (limit + 1)),
        "total_amount",
    )
    assert "over the limit of 6" in str(error)
    huge = replace(data, spans["total_amount"], varint(1_000_000) + b"\x01" * 1_000_000)
    assert_malformed(huge, "total_amount")  # refused before any of it is read


def test_string_over_the_default_limit() -> None:
    data, spans = _booking_fields()
    value = b"x" * (DEFAULT_MAX_LENGTH + 1)
    assert_malformed(replace(data, spans["guest_name"], varint(len(value)) + value), "guest_name")
    assert_malformed(replace(data, spans["guest_name"], varint(-5)), "guest_name")


def test_contract_limits_on_fields() -> None:
    schema = {
        "type": "record",
        "name": "R",
        "fields": [
            {"name": "s", "type": "string", "frontdesk.max_length": 3},
            {"name": "a", "type": {"type": "array", "items": "null"}, "frontdesk.max_items": 2},
            {"name": "m", "type": {"type": "map", "values": "int"}},
        ],
    }
    check = compile_check(schema)
    assert check(b"\x06abc" + b"\x04\x00" + b"\x00", 0) == 7
    with pytest.raises(StrictError, match="over the limit of 3"):
        check(b"\x08abcd\x00\x00", 0)
    with pytest.raises(StrictError, match="more than 2 items") as caught:
        check(b"\x00" + varint(3) + b"\x00", 0)
    assert caught.value.field == "a"
    # A block count of 2^62 null items would take forever without the limit.
    with pytest.raises(StrictError, match=f"more than {DEFAULT_MAX_ITEMS} items"):
        check(b"\x00\x00" + varint(2**62), 0)
    # Negative block counts (count, then the block's byte size) are valid Avro.
    assert check(b"\x00\x00" + varint(-1) + varint(2) + b"\x02k\x02" + b"\x00", 0) == 8


def test_int_out_of_range_is_refused_by_the_compiled_writer() -> None:
    for adults in (2**70, 2**31, -(2**31) - 1):
        with pytest.raises(EventValidationError, match="int range"):
            encode(booking().model_copy(update={"adults": adults}))
    assert decode(encode(booking().model_copy(update={"adults": 2**31 - 1}))).adults == 2**31 - 1


def test_negative_decimals_are_minimal_twos_complement_like_java() -> None:
    assert decimal_bytes(Decimal("-1.28"), 12, 2).hex() == "80"
    assert decimal_bytes(Decimal("1.28"), 12, 2).hex() == "0080"
    assert decimal_bytes(Decimal("-1.29"), 12, 2).hex() == "ff7f"
    assert decimal_bytes(Decimal("0.00"), 12, 2).hex() == "00"
    assert decimal_bytes(Decimal("-0.01"), 12, 2).hex() == "ff"
    event = booking(total_amount=Decimal("-1.28"))
    assert decode(encode(event)).total_amount == Decimal("-1.28")


# --- mutations of valid messages of every type ------------------------------------------


_VERSIONS = [v for v in REGISTRY if any(mutable_kind(f["type"]) for f in v.schema["fields"])]


@pytest.mark.fuzz
@settings(deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_mutations_java_rejects_are_rejected(data: st.DataObject) -> None:
    version = data.draw(st.sampled_from(_VERSIONS))
    datum = sample_event(version, random.Random(data.draw(st.integers(0, 2**32))))
    mutated, field = mutate(version, datum, lambda lo, hi: data.draw(st.integers(lo, hi)))
    if version is REGISTRY.latest(version.event_type):
        assert_malformed(mutated, field["name"])
    else:
        with pytest.raises(MalformedEventError):
            decode(mutated)


@pytest.mark.fuzz
@settings(deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_any_byte_mutation_is_a_decode_error_or_a_valid_event(data: st.DataObject) -> None:
    version = data.draw(st.sampled_from(_VERSIONS))
    mutated = bytearray(
        message(version, sample_event(version, random.Random(data.draw(st.integers(0, 99)))))
    )
    for _ in range(data.draw(st.integers(1, 4))):
        at = data.draw(st.integers(10, len(mutated) - 1))
        mutated[at] = data.draw(st.integers(0, 255))
    try:
        event = decode(bytes(mutated))
    except DecodeError:
        return
    assert decode(encode(event)) == event
