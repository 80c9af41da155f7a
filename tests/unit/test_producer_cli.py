"""`frontdesk produce` builds events from JSON and names the field of any mistake."""

from __future__ import annotations

import pytest

from frontdesk.cli.produce import parse_event
from frontdesk.errors import EventValidationError
from frontdesk.events import BookingCreated

FLAT = {
    "tenant_id": "acme",
    "property_id": "p1",
    "booking_id": "B1",
    "room_type_id": "DBL",
    "guest_id": "G1",
    "guest_name": "Ana",
    "arrival": "2025-07-01",
    "departure": "2025-07-03",
    "adults": 2,
    "children": 0,
    "channel": "direct",
    "status": "confirmed",
    "total_amount": "10.00",
    "currency": "EUR",
}


def test_flat_json_gets_an_envelope_and_full_json_round_trips() -> None:
    event = parse_event("BookingCreated", FLAT)
    assert isinstance(event, BookingCreated)
    assert event.key == "acme/p1"
    assert parse_event("BookingCreated", event.model_dump(mode="json")) == event


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"currency": "eur"}, "currency"),
        ({"adults": -1}, "adults"),
        ({"tenant_id": "Bad Tenant"}, "tenant_id"),
        ({"surprise": 1}, "surprise"),
    ],
)
def test_invalid_input_names_the_field(change: dict[str, object], field: str) -> None:
    with pytest.raises(EventValidationError) as info:
        parse_event("BookingCreated", {**FLAT, **change})
    assert field in str(info.value)


def test_unknown_type_and_missing_tenant_are_refused() -> None:
    with pytest.raises(EventValidationError, match="unknown event type"):
        parse_event("Nope", FLAT)
    with pytest.raises(EventValidationError, match="tenant_id"):
        parse_event("BookingCreated", {k: v for k, v in FLAT.items() if k != "tenant_id"})
