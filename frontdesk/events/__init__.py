"""Typed events: what a PMS publishes and what handlers receive.

The models are generated from `schemas/` (the contract other languages read too), so they
can never disagree with the wire format; construction validates, so a bad event fails in
the PMS where it was made, naming the field, instead of in some consumer hours later.

Publishing an event takes one call; `new()` fills the envelope (a uuid4 `event_id`,
`occurred_at` = now in UTC, `correlation_id` = the event id, `source` = "pms")::

    from datetime import date
    from decimal import Decimal
    from frontdesk.events import BookingCreated, Channel, BookingStatus

    event = BookingCreated.new(
        tenant_id="acme",
        property_id="lisbon-1",
        booking_id="B-1042",
        room_type_id="DBL",
        guest_id="G-77",
        guest_name="Ana Silva",
        arrival=date(2025, 7, 1),
        departure=date(2025, 7, 4),
        adults=2,
        children=0,
        channel=Channel.BOOKING_COM,
        status=BookingStatus.CONFIRMED,
        total_amount=Decimal("412.50"),
        currency="EUR",
    )
    event.key  # "acme/lisbon-1": the partition key, so a property's events stay in order

A handler reacting to an event passes `cause=`: tenant, property and correlation id are
taken from it and `causation_id` is set to its event id::

    CleaningTaskScheduled.new(cause=checked_out, task_id="T-9", unit_id="204", ...)

`EventMeta.new(event_type, tenant_id=..., property_id=...)` builds an envelope alone.
Models are frozen; use `event.model_copy(update=...)` sparingly, it skips validation.
Class attributes tell where an event goes: `event_type`, `queue`, `ordered`,
`schema_version`; `EVENT_TYPES` maps every event type name to its model.
"""

from frontdesk.events._base import (
    DEFAULT_SOURCE,
    PROPERTY_ID_PATTERN,
    Event,
    Record,
)
from frontdesk.events._generated import *  # noqa: F403 - the generated module defines __all__
from frontdesk.events._generated import __all__ as _generated_all

__all__ = [  # noqa: PLE0604 - names come from the generated module
    "DEFAULT_SOURCE",
    "PROPERTY_ID_PATTERN",
    "Event",
    "Record",
    *_generated_all,
]
