"""The wire format, pinned: golden bytes, version resolution and every way decoding fails."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from decimal import Decimal
from io import BytesIO
from typing import Any

import pytest
from fastavro import schemaless_reader, schemaless_writer
from pydantic import ValidationError

from frontdesk.codec import Codec, decode, default_codec, encode
from frontdesk.contracts import default_registry
from frontdesk.errors import (
    BadMagicError,
    DecodeError,
    EventValidationError,
    InvalidEventError,
    MalformedEventError,
    TruncatedEventError,
    UnknownSchemaError,
)
from frontdesk.events import (
    BookingCreated,
    BookingStatus,
    Channel,
    ChannelSyncRequested,
    EventMeta,
    GuestCheckedIn,
    MessageChannel,
    NotificationRequested,
    SyncScope,
)

AT = datetime(2025, 3, 14, 15, 9, 26, 535000, tzinfo=UTC)
_PREFIX = "4830303030303030302d303030302d343030302d383030302d303030303030303030303031"
_TAIL = "0861636d65106c6973626f6e2d318eea9fd3b26506706d730c666c6f772d31"


def meta(event_type: str, **extra: Any) -> EventMeta:
    return EventMeta(
        event_id=uuid.UUID("00000000-0000-4000-8000-000000000001"),
        event_type=event_type,
        tenant_id="acme",
        property_id="lisbon-1",
        occurred_at=AT,
        source="pms",
        correlation_id="flow-1",
        **extra,
    )


def checked_in() -> GuestCheckedIn:
    return GuestCheckedIn(
        meta=meta("GuestCheckedIn"), booking_id="B1", guest_id="G1", unit_id="204", checked_in_at=AT
    )


GOLDEN = [
    pytest.param(
        checked_in(),
        "c3013ee694a2410bcf4c"
        + _PREFIX
        + "1c4775657374436865636b6564496e"
        + _TAIL
        + "0000044231044731063230348eea9fd3b265",
        id="GuestCheckedIn",
    ),
    pytest.param(
        BookingCreated(
            meta=meta("BookingCreated", causation_id="c-1", entity_version=3),
            booking_id="B1",
            room_type_id="DBL",
            guest_id="G1",
            guest_name="Zoë",
            arrival=date(2025, 7, 1),
            departure=date(2025, 7, 4),
            adults=2,
            children=1,
            channel=Channel.AIRBNB,
            status=BookingStatus.CONFIRMED,
            total_amount=Decimal("-1234.56"),
            currency="EUR",
            special_requests="cot",
        ),
        "c3010bc95485b3e6b54d"
        + _PREFIX
        + "1c426f6f6b696e6743726561746564"
        + _TAIL
        + "0206632d3102060442310644424c00044731085a6fc3abdcbc02e2bc02040206000206fe1dc006455552"
        "0206636f7400",
        id="BookingCreated-v2",
    ),
    pytest.param(
        NotificationRequested(
            meta=meta("NotificationRequested"),
            notification_id="N1",
            recipient="+351900000000",
            channel=MessageChannel.SMS,
            template_id="pre-arrival",
            variables={"name": "Ana"},
            send_at=AT,
        ),
        "c3014826b569a473c878"
        + _PREFIX
        + "2a4e6f74696669636174696f6e526571756573746564"
        + _TAIL
        + "0000044e311a2b33353139303030303030303002167072652d6172726976616c02086e616d65"
        "06416e6100028eea9fd3b26500",
        id="NotificationRequested",
    ),
    pytest.param(
        ChannelSyncRequested(
            meta=meta("ChannelSyncRequested"),
            sync_id="S1",
            channel=Channel.BOOKING_COM,
            scopes=(SyncScope.AVAILABILITY, SyncScope.RATES),
            room_type_ids=("DBL",),
            start_date=date(2025, 1, 1),
            end_date=date(2025, 12, 31),
        ),
        "c301eb0f5c9c83f42571"
        + _PREFIX
        + "284368616e6e656c53796e63526571756573746564"
        + _TAIL
        + "00000453310204000200020644424c0002f2b90202cabf0200",
        id="ChannelSyncRequested",
    ),
]


@pytest.mark.parametrize(("event", "wire"), GOLDEN)
def test_golden_bytes(event: Any, wire: str) -> None:
    data = encode(event)
    assert data.hex() == wire
    assert decode(bytes.fromhex(wire)) == event


@pytest.mark.parametrize(("event", "wire"), GOLDEN)
def test_compiled_writer_matches_fastavro(event: Any, wire: str) -> None:
    latest = default_registry().latest(event.event_type)
    out = BytesIO()
    out.write(latest.header)
    schemaless_writer(out, latest.parsed, event.model_dump())
    assert out.getvalue().hex() == wire


def _body(event_type: str, version: int, record: dict[str, Any]) -> bytes:
    sv = default_registry().get(event_type, version)
    out = BytesIO()
    out.write(sv.header)
    schemaless_writer(out, sv.parsed, record)
    return out.getvalue()


def test_v1_bytes_decode_into_the_current_model() -> None:
    current = GOLDEN[1].values[0]
    assert isinstance(current, BookingCreated)
    v1_record = current.model_dump(exclude={"special_requests", "loyalty_id"})
    decoded = decode(_body("BookingCreated", 1, v1_record))
    assert isinstance(decoded, BookingCreated)
    assert decoded.special_requests is None
    assert decoded == current.model_copy(update={"special_requests": None})
    assert default_codec().writer_of(_body("BookingCreated", 1, v1_record)).version == 1


def test_v2_bytes_are_readable_by_a_v1_reader() -> None:
    current = GOLDEN[1].values[0]
    data = encode(current)
    v1 = default_registry().get("BookingCreated", 1)
    v2 = default_registry().get("BookingCreated", 2)
    assert data[:10] == v2.header
    record = schemaless_reader(BytesIO(data[10:]), v2.parsed, v1.parsed)
    assert "special_requests" not in record
    assert record["guest_name"] == "Zoë"
    assert record["total_amount"] == Decimal("-1234.56")
    assert record == current.model_dump(exclude={"special_requests", "loyalty_id"})


def _expect(error: type[DecodeError], data: bytes, reason: str) -> DecodeError:
    with pytest.raises(error) as caught:
        decode(data)
    assert caught.value.reason == reason
    assert caught.value.raw is data
    return caught.value


def test_bad_magic() -> None:
    _expect(BadMagicError, b'{"json": true}', "bad_magic")
    _expect(BadMagicError, b"\xc3\x02" + bytes(20), "bad_magic")


def test_unknown_schema_names_the_fingerprint() -> None:
    data = b"\xc3\x01" + bytes.fromhex("0102030405060708") + b"\x00"
    error = _expect(UnknownSchemaError, data, "unknown_schema")
    assert isinstance(error, UnknownSchemaError)
    assert error.fingerprint == "0102030405060708"
    assert "0102030405060708" in str(error)


@pytest.mark.parametrize("cut", [0, 1, 2, 9, 10, 30, -1])
def test_truncated(cut: int) -> None:
    data = encode(checked_in())
    _expect(TruncatedEventError, data[:cut], "truncated")


def test_trailing_bytes_are_malformed() -> None:
    _expect(MalformedEventError, encode(checked_in()) + b"\x00", "malformed")


def test_bad_enum_index_is_malformed() -> None:
    data = bytearray(encode(GOLDEN[3].values[0]))
    channel_at = data.index(bytes.fromhex("045331")) + 3  # after sync_id "S1"
    data[channel_at] = 0x7E  # symbol 63 of 8
    _expect(MalformedEventError, bytes(data), "malformed")


def test_schema_valid_but_model_invalid_keeps_the_pydantic_text() -> None:
    record = checked_in().model_dump()
    record["meta"]["tenant_id"] = "Not A Tenant"
    error = _expect(InvalidEventError, _body("GuestCheckedIn", 1, record), "invalid_event")
    assert "tenant_id" in str(error)
    assert "invalid tenant id" in str(error)
    assert isinstance(error.__cause__, ValidationError)


def test_encode_refuses_an_unvalidated_event() -> None:
    broken = GuestCheckedIn.model_construct(meta=meta("GuestCheckedIn"), booking_id="B1")
    with pytest.raises(EventValidationError, match="GuestCheckedIn cannot be encoded"):
        encode(broken)


def test_decode_errors_are_one_family() -> None:
    for error in (BadMagicError, UnknownSchemaError, TruncatedEventError, InvalidEventError):
        assert issubclass(error, DecodeError)


def test_codec_refuses_stale_models() -> None:
    from frontdesk.errors import SchemaError

    with pytest.raises(SchemaError, match="stale"):
        Codec(models={})


def test_event_validation_error_names_the_field() -> None:
    with pytest.raises(ValidationError) as caught:
        GuestCheckedIn.new(
            tenant_id="acme",
            property_id="p",
            booking_id="",
            guest_id="G",
            unit_id="1",
            checked_in_at=AT,
        )
    error = EventValidationError.from_pydantic(caught.value)
    assert error.field == "booking_id"
    assert "booking_id" in str(error)


def test_unsupported_avro_falls_back_to_fastavro() -> None:
    from frontdesk.contracts.writer import UnsupportedSchemaError, compile_writer

    with pytest.raises(UnsupportedSchemaError):
        compile_writer(
            {"type": "record", "name": "R", "fields": [{"name": "x", "type": ["string", "int"]}]}
        )
