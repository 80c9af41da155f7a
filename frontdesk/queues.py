"""The four queue types every event type belongs to.

Kept in its own module because both the event contracts and the topology depend on it,
and neither should depend on the other.
"""

from enum import StrEnum


class QueueType(StrEnum):
    """Which kind of work an event is; decides its topic and its workers."""

    OPERATIONAL = "operational"
    """Bookings, check-in/out, housekeeping, maintenance."""
    AUTOMATION = "automation"
    """Guest messaging, scheduled notifications, automation rules."""
    SYNC = "sync"
    """Channel managers/OTAs, accounting, smart locks: external APIs."""
    FALLBACK = "fallback"
    """Work diverted while a downstream dependency is down."""
