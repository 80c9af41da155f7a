"""The typed models: pleasant to build, impossible to build wrong."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import pytest
from pydantic import ValidationError

from frontdesk.events import (
    EVENT_TYPES,
    BookingCreated,
    BookingStatus,
    Channel,
    CleaningTaskScheduled,
    CleaningType,
    Event,
    EventMeta,
    GuestCheckedOut,
    MessageChannel,
    NotificationRequested,
)
from frontdesk.queues import QueueType


def booking(**overrides: Any) -> BookingCreated:
    fields: dict[str, Any] = {
        "tenant_id": "acme",
        "property_id": "lisbon-1",
        "booking_id": "B-1042",
        "room_type_id": "DBL",
        "guest_id": "G-77",
        "guest_name": "Ana Silva",
        "arrival": date(2025, 7, 1),
        "departure": date(2025, 7, 4),
        "adults": 2,
        "children": 0,
        "channel": Channel.BOOKING_COM,
        "status": BookingStatus.CONFIRMED,
        "total_amount": Decimal("412.5"),
        "currency": "EUR",
    }
    fields.update(overrides)
    return BookingCreated.new(**fields)


def field_errors(exc: ValidationError) -> set[str]:
    return {".".join(str(part) for part in error["loc"]) for error in exc.errors()}


def test_new_fills_the_envelope() -> None:
    before = datetime.now(UTC) - timedelta(seconds=1)
    event = booking()
    meta = event.meta
    assert meta.event_type == "BookingCreated"
    assert meta.event_id.version == 4
    assert meta.correlation_id == str(meta.event_id)
    assert meta.causation_id is None
    assert meta.source == "pms"
    assert before <= meta.occurred_at <= datetime.now(UTC)
    assert meta.occurred_at.tzinfo is UTC
    assert meta.occurred_at.microsecond % 1000 == 0
    assert event.total_amount == Decimal("412.50")
    assert event.total_amount.as_tuple().exponent == -2
    assert event.special_requests is None


def test_key_is_tenant_slash_property() -> None:
    assert booking().key == "acme/lisbon-1"


def test_class_metadata() -> None:
    assert BookingCreated.event_type == "BookingCreated"
    assert BookingCreated.queue is QueueType.OPERATIONAL
    assert BookingCreated.ordered is True
    assert BookingCreated.schema_version == 2
    assert NotificationRequested.queue is QueueType.AUTOMATION
    assert NotificationRequested.ordered is False
    assert all(issubclass(model, Event) for model in EVENT_TYPES.values())
    assert all(name == model.event_type for name, model in EVENT_TYPES.items())


def test_cause_carries_tenancy_and_lineage() -> None:
    checked_out = GuestCheckedOut.new(
        tenant_id="acme",
        property_id="lisbon-1",
        correlation_id="flow-1",
        booking_id="B-1",
        guest_id="G-1",
        unit_id="204",
        checked_out_at=datetime(2025, 7, 4, 10, 0, tzinfo=UTC),
        balance_due=Decimal(0),
        currency="EUR",
    )
    task = CleaningTaskScheduled.new(
        cause=checked_out,
        source="housekeeping",
        task_id="T-9",
        unit_id="204",
        task_type=CleaningType.CHECKOUT_CLEAN,
        scheduled_for=date(2025, 7, 4),
    )
    assert task.key == checked_out.key
    assert task.meta.correlation_id == "flow-1"
    assert task.meta.causation_id == str(checked_out.meta.event_id)
    assert task.meta.source == "housekeeping"


def test_new_needs_a_tenant() -> None:
    with pytest.raises(TypeError, match="tenant_id and property_id"):
        CleaningTaskScheduled.new(
            task_id="T", unit_id="1", task_type="other", scheduled_for=date(2025, 1, 1)
        )


def test_meta_new_builds_an_envelope_alone() -> None:
    event_id = uuid.uuid4()
    at = datetime(2025, 1, 1, 12, 0, 0, 123456, tzinfo=timezone(timedelta(hours=2)))
    meta = EventMeta.new(
        "GuestCheckedIn", tenant_id="t1", property_id="p", event_id=event_id, occurred_at=at
    )
    assert meta.event_id == event_id
    assert meta.occurred_at == datetime(2025, 1, 1, 10, 0, 0, 123000, tzinfo=UTC)


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"adults": -1}, "adults"),
        ({"total_amount": Decimal("1.005")}, "total_amount"),
        ({"total_amount": Decimal("12345678901")}, "total_amount"),
        ({"total_amount": Decimal("NaN")}, "total_amount"),
        ({"currency": "eur"}, "currency"),
        ({"booking_id": ""}, "booking_id"),
        ({"booking_id": " B1"}, "booking_id"),
        ({"guest_name": "   "}, "guest_name"),
        ({"channel": "telegraph"}, "channel"),
        ({"arrival": "not a date"}, "arrival"),
        ({"adults": 2**31}, "adults"),
        ({"nights": 3}, "nights"),
    ],
)
def test_invalid_fields_are_refused_by_name(overrides: dict[str, Any], field: str) -> None:
    with pytest.raises(ValidationError) as caught:
        booking(**overrides)
    assert field in field_errors(caught.value)
    assert field in str(caught.value)


@pytest.mark.parametrize("tenant_id", ["", "Acme", "acme/eu", "-acme", "a" * 64, "acme_eu", "acmé"])
def test_tenant_ids_must_be_topic_safe(tenant_id: str) -> None:
    with pytest.raises(ValidationError, match="tenant_id"):
        booking(tenant_id=tenant_id)


@pytest.mark.parametrize("tenant_id", ["acme", "a", "0day", "acme-eu-2", "a" * 63])
def test_valid_tenant_ids(tenant_id: str) -> None:
    assert booking(tenant_id=tenant_id).meta.tenant_id == tenant_id


@pytest.mark.parametrize("property_id", ["", "a/b", "has space", "x" * 129])
def test_property_ids_cannot_break_the_key(property_id: str) -> None:
    with pytest.raises(ValidationError, match="property_id"):
        booking(property_id=property_id)


def test_stay_must_end_after_it_starts() -> None:
    with pytest.raises(ValidationError, match=r"departure \(2025-07-01\) must be after arrival"):
        booking(departure=date(2025, 7, 1))


def test_naive_timestamps_are_refused() -> None:
    with pytest.raises(ValidationError, match="occurred_at"):
        booking(occurred_at=datetime(2025, 1, 1))


def test_meta_event_type_must_match_the_class() -> None:
    event = booking()
    meta = event.meta.model_copy(update={"event_type": "BookingCancelled"})
    with pytest.raises(ValidationError, match=r"meta\.event_type is 'BookingCancelled'"):
        BookingCreated.model_validate({**dict(event), "meta": meta})


def test_models_are_frozen_and_closed() -> None:
    event = booking()
    with pytest.raises(ValidationError, match="frozen"):
        event.adults = 3  # type: ignore[misc]
    with pytest.raises(ValidationError, match="extra"):
        EventMeta.model_validate({**dict(event.meta), "tenant": "x"})


def test_collections_default_and_freeze() -> None:
    note = NotificationRequested.new(
        tenant_id="acme",
        property_id="p",
        notification_id="N1",
        recipient="ana@example.com",
        channel=MessageChannel.EMAIL,
        template_id="welcome",
    )
    assert note.variables == {}
    assert note.send_at is None


def test_field_docs_come_from_the_schema() -> None:
    assert BookingCreated.model_fields["booking_id"].description == "PMS id of the booking."
    assert EventMeta.model_fields["tenant_id"].description
