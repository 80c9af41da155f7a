"""The sync deployment's work: keep one channel showing what the PMS says.

Pattern for every event: record it idempotently in the mirror (`consumers.sync.inventory`),
then converge the channel on the mirror's state for the event's slice. A redelivered event
records nothing new but still pushes, which is harmless (pushes are absolute) and is what
finishes the job when the previous attempt recorded and then failed to push.

A capacity change (RoomTypeCapacityChanged) is recorded the same way; it caps the units the
channel is shown from its ``effective_from`` on, and the nights whose shown units it alters
are pushed.

OTA failures propagate as raised by `OtaClient`: retryable `DependencyError` (the runtime
retries, or its circuit breaker diverts to the fallback queue) or `RejectedError` (DLQ).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import date

from consumers.common.errors import NonRetryableError
from consumers.common.run import in_thread
from consumers.common.store import Store, iso
from consumers.sync import inventory
from consumers.sync.inventory import Run, Slice
from consumers.sync.ota import AvailabilityRange, OtaClient, RateRange
from frontdesk.events import (
    AcknowledgementStatus,
    AvailabilityChanged,
    ChannelBookingAcknowledged,
    ChannelSyncRequested,
    RateChanged,
    RoomTypeCapacityChanged,
    SyncScope,
)

log = logging.getLogger(__name__)

AVAILABILITY_SCOPES = frozenset({SyncScope.AVAILABILITY, SyncScope.RESTRICTIONS, SyncScope.FULL})
"""Restrictions (min stay, closed to arrival/departure) travel with availability."""
RATE_SCOPES = frozenset({SyncScope.RATES, SyncScope.FULL})
UNSUPPORTED_SCOPES = frozenset({SyncScope.CONTENT, SyncScope.BOOKINGS})
"""Nothing in the mirror to push for these; another integration owns them. A request for
only these is acknowledged with nothing to do for this channel, not dead-lettered."""

MIGRATIONS = (
    *inventory.MIGRATIONS,
    """
    CREATE TABLE IF NOT EXISTS ota_booking_acks (
        tenant_id TEXT NOT NULL,
        channel TEXT NOT NULL,
        channel_reference TEXT NOT NULL,
        property_id TEXT NOT NULL,
        booking_id TEXT NOT NULL,
        status TEXT NOT NULL,
        message TEXT,
        acknowledged_at TEXT NOT NULL,
        confirmed INTEGER NOT NULL,
        event_id TEXT NOT NULL,
        PRIMARY KEY (tenant_id, channel, channel_reference)
    )
    """,
)


@dataclass(slots=True)
class Pushed:
    """What one call sent to the channel."""

    availability: int = 0
    rates: int = 0
    confirmations: int = 0
    skipped_scopes: list[SyncScope] = field(default_factory=list)

    @property
    def total(self) -> int:
        return self.availability + self.rates + self.confirmations


class ChannelSync:
    """Mirror and push for the channel of ``client``; one instance per deployment."""

    def __init__(self, store: Store, client: OtaClient) -> None:
        self.store = store
        self.client = client
        self.channel = client.channel
        self.scope = f"sync:{self.channel.value}"
        """Claim scope: every channel's deployment records each event once for itself."""
        store.migrate(MIGRATIONS)

    async def aclose(self) -> None:
        """Close the OTA client's connections (the store is shared and stays open)."""
        await self.client.aclose()

    # -- events ------------------------------------------------------------------------

    async def availability_changed(self, event: AvailabilityChanged) -> Pushed:
        return await self._record_and_push(event, event.start_date, event.end_date, rates=False)

    async def rate_changed(self, event: RateChanged) -> Pushed:
        return await self._record_and_push(
            event, event.start_date, event.end_date, availability=False
        )

    async def capacity_changed(self, event: RoomTypeCapacityChanged) -> Pushed:
        """Record the room type's new capacity; push the nights whose shown units it alters
        (still pending, so a redelivery after a failed push finishes the job)."""
        return await self._record_and_push(
            event, event.effective_from, None, pending_only=True, rates=False
        )

    async def _record_and_push(
        self,
        event: AvailabilityChanged | RateChanged | RoomTypeCapacityChanged,
        start: date,
        end: date | None,
        *,
        pending_only: bool = False,
        availability: bool = True,
        rates: bool = True,
    ) -> Pushed:
        """Record a change of one room type, then push its nights from ``start`` to ``end``."""
        await in_thread(self.record, event)
        m = event.meta
        return await self.push(
            m.tenant_id,
            m.property_id,
            room_types=(event.room_type_id,),
            start=start,
            end=end,
            pending_only=pending_only,
            availability=availability,
            rates=rates,
        )

    async def sync_requested(self, event: ChannelSyncRequested) -> Pushed:
        """Re-push the requested slice of the mirror to this deployment's channel.

        Scopes this deployment does not push (``content``, ``bookings``) are skipped with a
        log line; a request with no scope at all is malformed (DLQ).
        """
        if event.channel != self.channel:
            return Pushed()  # the deployment of that channel handles it
        scopes = set(event.scopes)
        if not scopes:
            raise NonRetryableError(f"sync {event.sync_id} names no scope to push")
        skipped = sorted(scopes & UNSUPPORTED_SCOPES)
        if not scopes - UNSUPPORTED_SCOPES:
            log.info(
                "sync %s asks only for %s, which the %s sync deployment does not push: "
                "nothing to do for this channel",
                event.sync_id,
                ", ".join(skipped),
                self.channel.value,
            )
            return Pushed(skipped_scopes=list(skipped))
        m = event.meta
        pushed = await self.push(
            m.tenant_id,
            m.property_id,
            room_types=event.room_type_ids,
            start=event.start_date,
            end=event.end_date,
            availability=bool(scopes & AVAILABILITY_SCOPES),
            rates=bool(scopes & RATE_SCOPES),
        )
        if skipped:
            log.info("sync %s: scopes %s not pushed (unsupported)", event.sync_id, skipped)
        pushed.skipped_scopes = list(skipped)
        return pushed

    async def booking_acknowledged(self, event: ChannelBookingAcknowledged) -> Pushed:
        """Record the channel's verdict; for an accepted booking, confirm the PMS booking id
        to the channel (until confirmed, OTAs keep re-sending the reservation)."""
        if event.channel != self.channel:
            return Pushed()
        row = await in_thread(self._record_ack, event)
        if row is None:
            return Pushed()
        await self.client.confirm_booking(
            event.meta.tenant_id, event.meta.property_id, event.channel_reference, event.booking_id
        )
        await in_thread(self._mark_confirmed, event)
        return Pushed(confirmations=1)

    # -- pushing -----------------------------------------------------------------------

    async def push(
        self,
        tenant_id: str,
        property_id: str,
        *,
        room_types: tuple[str, ...] = (),
        start: date | None = None,
        end: date | None = None,
        pending_only: bool = False,
        availability: bool = True,
        rates: bool = True,
    ) -> Pushed:
        """Push the mirror's slice as coalesced ranges; each pushed range is marked done
        at once, so a failure part-way leaves only the rest pending."""
        pushed = Pushed()
        where = Slice(tenant_id, property_id, room_types, start, end, pending_only)
        if availability:
            runs = await in_thread(self._availability_runs, where)
            for run in runs:
                await self.client.push_availability(tenant_id, property_id, run.update)
                await in_thread(self._mark_availability, tenant_id, property_id, run)
                pushed.availability += 1
        if rates:
            rate_runs = await in_thread(self._rate_runs, where)
            for rate_run in rate_runs:
                await self.client.push_rates(tenant_id, property_id, rate_run.update)
                await in_thread(self._mark_rates, tenant_id, property_id, rate_run)
                pushed.rates += 1
        return pushed

    async def flush(self) -> Pushed:
        """Push everything still pending, property by property: the recovery path."""
        total = Pushed()
        properties = await in_thread(self._pending_properties)
        for tenant_id, property_id in properties:
            done = await self.push(tenant_id, property_id, pending_only=True)
            total.availability += done.availability
            total.rates += done.rates
        return total

    # -- store work (runs in a thread) ---------------------------------------------------

    def record(self, event: AvailabilityChanged | RateChanged | RoomTypeCapacityChanged) -> None:
        """Record the change in the mirror, pending, once per event id; no push."""
        with self.store.transaction() as tx:
            if not tx.claim(self.scope, event.meta.event_id):
                return
            if isinstance(event, AvailabilityChanged):
                inventory.record_availability(tx, self.channel, event)
            elif isinstance(event, RateChanged):
                inventory.record_rate(tx, self.channel, event)
            else:
                inventory.record_capacity(tx, self.channel, event)

    def _availability_runs(self, where: Slice) -> list[Run[AvailabilityRange]]:
        with self.store.transaction() as tx:
            return inventory.availability_runs(tx, self.channel, where)

    def _rate_runs(self, where: Slice) -> list[Run[RateRange]]:
        with self.store.transaction() as tx:
            return inventory.rate_runs(tx, self.channel, where)

    def _mark_availability(
        self, tenant_id: str, property_id: str, run: Run[AvailabilityRange]
    ) -> None:
        with self.store.transaction() as tx:
            inventory.mark_availability_pushed(tx, self.channel, tenant_id, property_id, run)

    def _mark_rates(self, tenant_id: str, property_id: str, run: Run[RateRange]) -> None:
        with self.store.transaction() as tx:
            inventory.mark_rates_pushed(tx, self.channel, tenant_id, property_id, run)

    def _pending_properties(self) -> list[tuple[str, str]]:
        with self.store.transaction() as tx:
            return inventory.pending_properties(tx, self.channel)

    def _record_ack(self, event: ChannelBookingAcknowledged) -> dict[str, object] | None:
        """Store the acknowledgement; the row when a confirmation is still owed."""
        m = event.meta
        with self.store.transaction() as tx:
            tx.execute(
                """
                INSERT INTO ota_booking_acks (tenant_id, channel, channel_reference, property_id,
                    booking_id, status, message, acknowledged_at, confirmed, event_id)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, 0, ?)
                ON CONFLICT (tenant_id, channel, channel_reference) DO UPDATE SET
                    booking_id = excluded.booking_id,
                    status = excluded.status,
                    message = excluded.message,
                    acknowledged_at = excluded.acknowledged_at,
                    event_id = excluded.event_id
                WHERE excluded.acknowledged_at >= ota_booking_acks.acknowledged_at
                """,
                (
                    m.tenant_id,
                    self.channel.value,
                    event.channel_reference,
                    m.property_id,
                    event.booking_id,
                    event.status.value,
                    event.message,
                    iso(event.acknowledged_at),
                    str(m.event_id),
                ),
            )
            row = tx.one(
                "SELECT * FROM ota_booking_acks WHERE tenant_id = ? AND channel = ? "
                "AND channel_reference = ?",
                (m.tenant_id, self.channel.value, event.channel_reference),
            )
        owed = (
            row is not None
            and row["status"] == AcknowledgementStatus.ACCEPTED
            and not row["confirmed"]
        )
        return row if owed else None

    def _mark_confirmed(self, event: ChannelBookingAcknowledged) -> None:
        with self.store.transaction() as tx:
            tx.execute(
                "UPDATE ota_booking_acks SET confirmed = 1 WHERE tenant_id = ? AND channel = ? "
                "AND channel_reference = ?",
                (event.meta.tenant_id, self.channel.value, event.channel_reference),
            )

    def capacity(
        self, tenant_id: str, property_id: str, room_type_id: str, night: date
    ) -> int | None:
        """The room type's capacity on a night, as recorded (for operators and tests)."""
        with self.store.transaction() as tx:
            steps = inventory.capacity_steps(tx, tenant_id, property_id, (room_type_id,))
        step = inventory.capacity_on(steps.get(room_type_id, ()), night)
        return None if step is None else step.total_units

    def booking_ack(self, tenant_id: str, channel_reference: str) -> dict[str, object] | None:
        """The stored acknowledgement of a channel booking (for operators and tests)."""
        with self.store.transaction() as tx:
            return tx.one(
                "SELECT * FROM ota_booking_acks WHERE tenant_id = ? AND channel = ? "
                "AND channel_reference = ?",
                (tenant_id, self.channel.value, channel_reference),
            )


__all__ = ["MIGRATIONS", "ChannelSync", "Pushed"]
