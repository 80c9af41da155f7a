"""Event models generated from the Avro schemas. Do not edit: change schemas/ and run
`python -m frontdesk.contracts.generate`.

One class per event type, matching its latest schema version; shared behaviour is in
`frontdesk.events._base`.
"""

from datetime import date
from decimal import Decimal
from enum import StrEnum
from typing import Annotated, ClassVar
from uuid import UUID

from pydantic import Field

from frontdesk.events._base import (
    Bool,
    Currency,
    Event,
    Float,
    Id,
    Int32,
    Int64,
    MetaBase,
    OrderRule,
    PropertyId,
    Record,
    TenantId,
    Text,
    UtcDatetime,
    quantizer,
)
from frontdesk.queues import QueueType


Decimal12x2 = Annotated[
    Decimal, Field(max_digits=12, decimal_places=2), quantizer(2)
]
"""Avro decimal(12, 2): at most 12 digits, 2 after the point."""


class AcknowledgementStatus(StrEnum):
    """Outcome of a booking acknowledgement. Symbols unknown to this reader read as unknown."""

    ACCEPTED = "accepted"
    REJECTED = "rejected"
    UNKNOWN = "unknown"


class BookingStatus(StrEnum):
    """Commercial state of a booking. Symbols unknown to this reader read as unknown."""

    TENTATIVE = "tentative"
    CONFIRMED = "confirmed"
    UNKNOWN = "unknown"


class CancellationParty(StrEnum):
    """Who cancelled a booking. Symbols unknown to this reader read as unknown."""

    GUEST = "guest"
    PROPERTY = "property"
    CHANNEL = "channel"
    SYSTEM = "system"
    UNKNOWN = "unknown"


class Channel(StrEnum):
    """Distribution channel a booking came through or inventory is pushed to. Symbols unknown to this reader read as other."""

    DIRECT = "direct"
    BOOKING_COM = "booking_com"
    EXPEDIA = "expedia"
    AIRBNB = "airbnb"
    VRBO = "vrbo"
    GOOGLE = "google"
    AGODA = "agoda"
    OTHER = "other"


class CleaningType(StrEnum):
    """Kind of housekeeping work. Symbols unknown to this reader read as other."""

    CHECKOUT_CLEAN = "checkout_clean"
    STAYOVER_CLEAN = "stayover_clean"
    DEEP_CLEAN = "deep_clean"
    INSPECTION = "inspection"
    OTHER = "other"


class MaintenanceCategory(StrEnum):
    """Trade a repair needs. Symbols unknown to this reader read as other."""

    PLUMBING = "plumbing"
    ELECTRICAL = "electrical"
    HVAC = "hvac"
    APPLIANCE = "appliance"
    FURNITURE = "furniture"
    LOCKS = "locks"
    OTHER = "other"


class MaintenancePriority(StrEnum):
    """How urgent a repair is. Symbols unknown to this reader read as normal."""

    LOW = "low"
    NORMAL = "normal"
    HIGH = "high"
    URGENT = "urgent"


class MessageChannel(StrEnum):
    """Medium a guest message or notification travels over. Symbols unknown to this reader read as other."""

    EMAIL = "email"
    SMS = "sms"
    WHATSAPP = "whatsapp"
    OTA_INBOX = "ota_inbox"
    WEB_CHAT = "web_chat"
    PUSH = "push"
    OTHER = "other"


class PaymentMethod(StrEnum):
    """How a payment was made. Symbols unknown to this reader read as other."""

    CARD = "card"
    BANK_TRANSFER = "bank_transfer"
    CASH = "cash"
    CHANNEL_COLLECT = "channel_collect"
    WALLET = "wallet"
    OTHER = "other"


class SyncScope(StrEnum):
    """Kind of data pushed to a channel. Symbols unknown to this reader read as full."""

    AVAILABILITY = "availability"
    RATES = "rates"
    RESTRICTIONS = "restrictions"
    CONTENT = "content"
    BOOKINGS = "bookings"
    FULL = "full"


class EventMeta(MetaBase):
    """Envelope carried by every event: who it belongs to, when it happened, where it came from and what caused it."""

    event_id: UUID
    """Unique id of this event; consumers use it for idempotency."""
    event_type: str
    """Name of the event record, e.g. BookingCreated; must match the record."""
    tenant_id: TenantId
    """Tenant (PMS customer) owning the event; lower-case, becomes part of topic names."""
    property_id: PropertyId
    """Property (hotel, rental) within the tenant; with tenant_id it forms the partition key."""
    occurred_at: UtcDatetime
    """When the fact happened in the source system (UTC, milliseconds)."""
    source: Id
    """System or component that produced the event, e.g. pms-web or channel-manager."""
    correlation_id: Id
    """Id shared by every event of one business flow; the first event's id when it starts one."""
    causation_id: Id | None = None
    """Id of the event that directly caused this one; null when a person or schedule caused it."""
    entity_version: Annotated[Int64, Field(ge=0)] | None = None
    """Version of the changed entity after the change, for optimistic concurrency; null if not tracked."""


class AvailabilityChanged(Event):
    """Sellable inventory or stay restrictions of a room type changed for a date range; channels must be updated. Ordered: the last change must win."""

    event_type: ClassVar[str] = "AvailabilityChanged"
    queue: ClassVar[QueueType] = QueueType.SYNC
    ordered: ClassVar[bool] = True
    schema_version: ClassVar[int] = 1
    _order_rules: ClassVar[tuple[OrderRule, ...]] = (("start_date", "end_date", False),)

    meta: EventMeta
    """Envelope shared by every event: identity, tenancy, time and lineage."""
    room_type_id: Id
    """Room type concerned."""
    start_date: date
    """First night of the range."""
    end_date: date
    """Last night of the range (inclusive)."""
    units_available: Annotated[Int32, Field(ge=0)]
    """Units still sellable on each night of the range."""
    min_stay: Annotated[Int32, Field(ge=1)] | None = None
    """Minimum length of stay in nights for arrivals in the range; null for no restriction."""
    closed_to_arrival: Bool
    """Arrivals are not allowed on these nights."""
    closed_to_departure: Bool
    """Departures are not allowed on these days."""


class BookingCancelled(Event):
    """A booking was cancelled; its inventory is free again."""

    event_type: ClassVar[str] = "BookingCancelled"
    queue: ClassVar[QueueType] = QueueType.OPERATIONAL
    ordered: ClassVar[bool] = True
    schema_version: ClassVar[int] = 1

    meta: EventMeta
    """Envelope shared by every event: identity, tenancy, time and lineage."""
    booking_id: Id
    """PMS id of the booking."""
    cancelled_by: CancellationParty
    """Who cancelled."""
    reason: str | None = None
    """Why it was cancelled, if given."""
    cancellation_fee: Decimal12x2
    """Fee charged for the cancellation (0 if none)."""
    currency: Currency
    """ISO 4217 code of every amount in this event, e.g. EUR."""


class BookingCreated(Event):
    """A booking was made, on any channel."""

    event_type: ClassVar[str] = "BookingCreated"
    queue: ClassVar[QueueType] = QueueType.OPERATIONAL
    ordered: ClassVar[bool] = True
    schema_version: ClassVar[int] = 2
    _order_rules: ClassVar[tuple[OrderRule, ...]] = (("arrival", "departure", True),)

    meta: EventMeta
    """Envelope shared by every event: identity, tenancy, time and lineage."""
    booking_id: Id
    """PMS id of the booking."""
    room_type_id: Id
    """Room type booked."""
    unit_id: Id | None = None
    """Specific unit (room, apartment) assigned, if already assigned."""
    guest_id: Id
    """PMS id of the booking guest."""
    guest_name: Text
    """Display name of the booking guest."""
    arrival: date
    """First night of the stay."""
    departure: date
    """Day the guest leaves (the night before is the last night)."""
    adults: Annotated[Int32, Field(ge=0)]
    """Number of adult guests."""
    children: Annotated[Int32, Field(ge=0)]
    """Number of child guests."""
    channel: Channel
    """Channel the booking came through."""
    channel_reference: Id | None = None
    """Booking reference on the channel (OTA confirmation code)."""
    status: BookingStatus
    """Commercial state at creation."""
    total_amount: Decimal12x2
    """Total price of the stay including taxes."""
    currency: Currency
    """ISO 4217 code of every amount in this event, e.g. EUR."""
    special_requests: str | None = None
    """Free-text requests from the guest (late arrival, cot, ...). Added in v2."""
    loyalty_id: Id | None = None
    """Guest's loyalty programme member id, if any. Added in v2."""


class BookingModified(Event):
    """Dates, room type, party size or price of a booking changed."""

    event_type: ClassVar[str] = "BookingModified"
    queue: ClassVar[QueueType] = QueueType.OPERATIONAL
    ordered: ClassVar[bool] = True
    schema_version: ClassVar[int] = 1
    _order_rules: ClassVar[tuple[OrderRule, ...]] = (("arrival", "departure", True),)

    meta: EventMeta
    """Envelope shared by every event: identity, tenancy, time and lineage."""
    booking_id: Id
    """PMS id of the booking."""
    room_type_id: Id
    """Room type booked."""
    unit_id: Id | None = None
    """Unit assigned after the change, if any."""
    arrival: date
    """First night of the stay."""
    departure: date
    """Day the guest leaves (the night before is the last night)."""
    adults: Annotated[Int32, Field(ge=0)]
    """Number of adult guests."""
    children: Annotated[Int32, Field(ge=0)]
    """Number of child guests."""
    total_amount: Decimal12x2
    """Total price of the stay after the change."""
    currency: Currency
    """ISO 4217 code of every amount in this event, e.g. EUR."""
    changed_fields: tuple[str, ...] = ()
    """Names of the fields of this event whose value changed."""
    reason: str | None = None
    """Why it changed, if given."""


class ChannelBookingAcknowledged(Event):
    """A channel confirmed (or rejected) a booking it delivered. Unordered: one acknowledgement per booking delivery."""

    event_type: ClassVar[str] = "ChannelBookingAcknowledged"
    queue: ClassVar[QueueType] = QueueType.SYNC
    ordered: ClassVar[bool] = False
    schema_version: ClassVar[int] = 1

    meta: EventMeta
    """Envelope shared by every event: identity, tenancy, time and lineage."""
    booking_id: Id
    """PMS id of the booking."""
    channel: Channel
    """Channel that delivered the booking."""
    channel_reference: Id
    """Booking reference on the channel."""
    status: AcknowledgementStatus
    """Outcome."""
    message: str | None = None
    """Channel's explanation, e.g. the rejection reason."""
    acknowledged_at: UtcDatetime
    """When the channel acknowledged (UTC)."""


class ChannelSyncRequested(Event):
    """Push property data to a channel (OTA, channel manager). Unordered: a request names what to push, not values, so a late one is harmless."""

    event_type: ClassVar[str] = "ChannelSyncRequested"
    queue: ClassVar[QueueType] = QueueType.SYNC
    ordered: ClassVar[bool] = False
    schema_version: ClassVar[int] = 1
    _order_rules: ClassVar[tuple[OrderRule, ...]] = (("start_date", "end_date", False),)

    meta: EventMeta
    """Envelope shared by every event: identity, tenancy, time and lineage."""
    sync_id: Id
    """Id of the request."""
    channel: Channel
    """Channel to push to."""
    scopes: tuple[SyncScope, ...]
    """What to push."""
    room_type_ids: tuple[str, ...] = ()
    """Room types to push; empty for all."""
    start_date: date | None = None
    """First night to push; null for the channel's whole horizon."""
    end_date: date | None = None
    """Last night to push (inclusive); null for the channel's whole horizon."""
    reason: str | None = None
    """Why the sync was requested (e.g. manual, reconciliation)."""


class CleaningTaskCompleted(Event):
    """Housekeeping work on a unit was finished; the unit may be sellable again."""

    event_type: ClassVar[str] = "CleaningTaskCompleted"
    queue: ClassVar[QueueType] = QueueType.OPERATIONAL
    ordered: ClassVar[bool] = True
    schema_version: ClassVar[int] = 1

    meta: EventMeta
    """Envelope shared by every event: identity, tenancy, time and lineage."""
    task_id: Id
    """Id of the housekeeping task."""
    unit_id: Id
    """Unit cleaned."""
    completed_by: Id
    """Housekeeper who did the work."""
    completed_at: UtcDatetime
    """When the work was finished (UTC)."""
    duration_minutes: Annotated[Int32, Field(ge=0)] | None = None
    """Time spent, if tracked."""
    issues: tuple[str, ...] = ()
    """Problems noticed (damage, missing items); empty if none."""


class CleaningTaskScheduled(Event):
    """Housekeeping work was planned for a unit. Ordered so a task's completion never overtakes its scheduling."""

    event_type: ClassVar[str] = "CleaningTaskScheduled"
    queue: ClassVar[QueueType] = QueueType.OPERATIONAL
    ordered: ClassVar[bool] = True
    schema_version: ClassVar[int] = 1

    meta: EventMeta
    """Envelope shared by every event: identity, tenancy, time and lineage."""
    task_id: Id
    """Id of the housekeeping task."""
    unit_id: Id
    """Unit to clean."""
    task_type: CleaningType
    """Kind of work."""
    scheduled_for: date
    """Day the work is planned for."""
    due_by: UtcDatetime | None = None
    """Time the unit must be ready (UTC), e.g. next arrival; null if no deadline."""
    booking_id: Id | None = None
    """Booking that caused the task, if any."""
    assignee_id: Id | None = None
    """Housekeeper assigned, if already assigned."""
    notes: str | None = None
    """Instructions for the housekeeper."""


class GuestCheckedIn(Event):
    """The guest of a booking arrived and got their unit."""

    event_type: ClassVar[str] = "GuestCheckedIn"
    queue: ClassVar[QueueType] = QueueType.OPERATIONAL
    ordered: ClassVar[bool] = True
    schema_version: ClassVar[int] = 1

    meta: EventMeta
    """Envelope shared by every event: identity, tenancy, time and lineage."""
    booking_id: Id
    """PMS id of the booking."""
    guest_id: Id
    """PMS id of the guest checking in."""
    unit_id: Id
    """Unit handed over."""
    checked_in_at: UtcDatetime
    """When the check-in was completed (UTC)."""


class GuestCheckedOut(Event):
    """The guest of a booking left; the unit needs cleaning."""

    event_type: ClassVar[str] = "GuestCheckedOut"
    queue: ClassVar[QueueType] = QueueType.OPERATIONAL
    ordered: ClassVar[bool] = True
    schema_version: ClassVar[int] = 1

    meta: EventMeta
    """Envelope shared by every event: identity, tenancy, time and lineage."""
    booking_id: Id
    """PMS id of the booking."""
    guest_id: Id
    """PMS id of the guest checking out."""
    unit_id: Id
    """Unit released."""
    checked_out_at: UtcDatetime
    """When the check-out was completed (UTC)."""
    balance_due: Decimal12x2
    """Amount still owed by the guest at check-out (0 if settled)."""
    currency: Currency
    """ISO 4217 code of every amount in this event, e.g. EUR."""


class GuestMessageReceived(Event):
    """A guest wrote to the property. Ordered so a conversation is processed in sequence."""

    event_type: ClassVar[str] = "GuestMessageReceived"
    queue: ClassVar[QueueType] = QueueType.AUTOMATION
    ordered: ClassVar[bool] = True
    schema_version: ClassVar[int] = 1

    meta: EventMeta
    """Envelope shared by every event: identity, tenancy, time and lineage."""
    message_id: Id
    """Id of the message."""
    conversation_id: Id
    """Thread the message belongs to."""
    booking_id: Id | None = None
    """Booking the conversation is about, if known."""
    guest_id: Id | None = None
    """Guest who wrote, if known."""
    channel: MessageChannel
    """Medium the message arrived over."""
    body: str
    """Message text as received."""
    received_at: UtcDatetime
    """When the message arrived (UTC)."""


class GuestMessageSent(Event):
    """The property (staff or an automation) wrote to a guest. Ordered so a conversation is processed in sequence."""

    event_type: ClassVar[str] = "GuestMessageSent"
    queue: ClassVar[QueueType] = QueueType.AUTOMATION
    ordered: ClassVar[bool] = True
    schema_version: ClassVar[int] = 1

    meta: EventMeta
    """Envelope shared by every event: identity, tenancy, time and lineage."""
    message_id: Id
    """Id of the message."""
    conversation_id: Id
    """Thread the message belongs to."""
    booking_id: Id | None = None
    """Booking the conversation is about, if known."""
    guest_id: Id | None = None
    """Guest written to, if known."""
    channel: MessageChannel
    """Medium the message was sent over."""
    body: str
    """Message text as sent."""
    sent_by: Id
    """Staff user id, or the automation rule id that sent it."""
    template_id: Id | None = None
    """Template the message was rendered from, if any."""
    sent_at: UtcDatetime
    """When the message was sent (UTC)."""


class MaintenanceRequested(Event):
    """Something in a property needs repair. Unordered: requests are independent."""

    event_type: ClassVar[str] = "MaintenanceRequested"
    queue: ClassVar[QueueType] = QueueType.OPERATIONAL
    ordered: ClassVar[bool] = False
    schema_version: ClassVar[int] = 1

    meta: EventMeta
    """Envelope shared by every event: identity, tenancy, time and lineage."""
    request_id: Id
    """Id of the maintenance request."""
    unit_id: Id | None = None
    """Unit affected; null for common areas."""
    category: MaintenanceCategory
    """Kind of repair."""
    priority: MaintenancePriority
    """How urgent."""
    description: Text
    """What is wrong."""
    reported_by: Id
    """Staff user or guest id who reported it."""
    blocks_unit: Bool
    """The unit cannot be sold until repaired."""


class NotificationRequested(Event):
    """Something asked for a notification to be sent now or at a given time. Unordered: each request stands alone."""

    event_type: ClassVar[str] = "NotificationRequested"
    queue: ClassVar[QueueType] = QueueType.AUTOMATION
    ordered: ClassVar[bool] = False
    schema_version: ClassVar[int] = 1

    meta: EventMeta
    """Envelope shared by every event: identity, tenancy, time and lineage."""
    notification_id: Id
    """Id of the request; the sender de-duplicates on it."""
    recipient: Text
    """Address to notify (e-mail, phone number, staff user id)."""
    channel: MessageChannel
    """Medium to notify over."""
    template_id: Id
    """Template to render."""
    variables: dict[str, str] = Field(default_factory=dict)
    """Values for the template's placeholders."""
    send_at: UtcDatetime | None = None
    """When to send (UTC); null to send now."""
    booking_id: Id | None = None
    """Booking the notification is about, if any."""


class PaymentCaptured(Event):
    """Money was taken from a guest or a channel."""

    event_type: ClassVar[str] = "PaymentCaptured"
    queue: ClassVar[QueueType] = QueueType.OPERATIONAL
    ordered: ClassVar[bool] = True
    schema_version: ClassVar[int] = 1

    meta: EventMeta
    """Envelope shared by every event: identity, tenancy, time and lineage."""
    payment_id: Id
    """Id of the payment."""
    booking_id: Id | None = None
    """Booking paid for, if any."""
    amount: Decimal12x2
    """Amount captured."""
    currency: Currency
    """ISO 4217 code of every amount in this event, e.g. EUR."""
    method: PaymentMethod
    """How it was paid."""
    provider: Id
    """Payment provider or gateway."""
    provider_reference: Id | None = None
    """Provider's transaction reference."""
    captured_at: UtcDatetime
    """When the capture succeeded (UTC)."""


class PaymentRefunded(Event):
    """Money was returned to a guest or a channel."""

    event_type: ClassVar[str] = "PaymentRefunded"
    queue: ClassVar[QueueType] = QueueType.OPERATIONAL
    ordered: ClassVar[bool] = True
    schema_version: ClassVar[int] = 1

    meta: EventMeta
    """Envelope shared by every event: identity, tenancy, time and lineage."""
    refund_id: Id
    """Id of the refund."""
    payment_id: Id
    """Payment refunded."""
    booking_id: Id | None = None
    """Booking concerned, if any."""
    amount: Decimal12x2
    """Amount refunded."""
    currency: Currency
    """ISO 4217 code of every amount in this event, e.g. EUR."""
    reason: str | None = None
    """Why it was refunded."""
    refunded_at: UtcDatetime
    """When the refund succeeded (UTC)."""


class RateChanged(Event):
    """The nightly price of a rate plan changed for a date range; channels must be updated. Ordered: the last change must win."""

    event_type: ClassVar[str] = "RateChanged"
    queue: ClassVar[QueueType] = QueueType.SYNC
    ordered: ClassVar[bool] = True
    schema_version: ClassVar[int] = 1
    _order_rules: ClassVar[tuple[OrderRule, ...]] = (("start_date", "end_date", False),)

    meta: EventMeta
    """Envelope shared by every event: identity, tenancy, time and lineage."""
    room_type_id: Id
    """Room type concerned."""
    rate_plan_id: Id
    """Rate plan concerned (e.g. flexible, non-refundable)."""
    start_date: date
    """First night of the range."""
    end_date: date
    """Last night of the range (inclusive)."""
    amount: Decimal12x2
    """Price per night."""
    currency: Currency
    """ISO 4217 code of every amount in this event, e.g. EUR."""
    occupancy: Annotated[Int32, Field(ge=1)]
    """Number of guests the price is for."""


class RoomTypeCapacityChanged(Event):
    """The number of physical units of a room type changed (units added, removed, merged). Ordered: the last change must win."""

    event_type: ClassVar[str] = "RoomTypeCapacityChanged"
    queue: ClassVar[QueueType] = QueueType.SYNC
    ordered: ClassVar[bool] = True
    schema_version: ClassVar[int] = 1

    meta: EventMeta
    """Envelope shared by every event: identity, tenancy, time and lineage."""
    room_type_id: Id
    """Room type concerned."""
    total_units: Annotated[Int32, Field(ge=0)]
    """Units of this room type from effective_from on."""
    previous_total_units: Annotated[Int32, Field(ge=0)] | None = None
    """Units before the change, if known."""
    effective_from: date
    """First night the new capacity applies."""
    max_occupancy: Annotated[Int32, Field(ge=1)] | None = None
    """Most guests one unit takes, if it changed."""


EVENT_TYPES: dict[str, type[Event]] = {
    "AvailabilityChanged": AvailabilityChanged,
    "BookingCancelled": BookingCancelled,
    "BookingCreated": BookingCreated,
    "BookingModified": BookingModified,
    "ChannelBookingAcknowledged": ChannelBookingAcknowledged,
    "ChannelSyncRequested": ChannelSyncRequested,
    "CleaningTaskCompleted": CleaningTaskCompleted,
    "CleaningTaskScheduled": CleaningTaskScheduled,
    "GuestCheckedIn": GuestCheckedIn,
    "GuestCheckedOut": GuestCheckedOut,
    "GuestMessageReceived": GuestMessageReceived,
    "GuestMessageSent": GuestMessageSent,
    "MaintenanceRequested": MaintenanceRequested,
    "NotificationRequested": NotificationRequested,
    "PaymentCaptured": PaymentCaptured,
    "PaymentRefunded": PaymentRefunded,
    "RateChanged": RateChanged,
    "RoomTypeCapacityChanged": RoomTypeCapacityChanged,
}
"""Every event model by event type name."""


__all__ = [
    "AcknowledgementStatus",
    "AvailabilityChanged",
    "BookingCancelled",
    "BookingCreated",
    "BookingModified",
    "BookingStatus",
    "CancellationParty",
    "Channel",
    "ChannelBookingAcknowledged",
    "ChannelSyncRequested",
    "CleaningTaskCompleted",
    "CleaningTaskScheduled",
    "CleaningType",
    "EVENT_TYPES",
    "EventMeta",
    "GuestCheckedIn",
    "GuestCheckedOut",
    "GuestMessageReceived",
    "GuestMessageSent",
    "MaintenanceCategory",
    "MaintenancePriority",
    "MaintenanceRequested",
    "MessageChannel",
    "NotificationRequested",
    "PaymentCaptured",
    "PaymentMethod",
    "PaymentRefunded",
    "RateChanged",
    "RoomTypeCapacityChanged",
    "SyncScope",
]
