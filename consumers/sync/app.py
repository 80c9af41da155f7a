"""The sync deployment for one channel: ``frontdesk worker consumers.sync.app:app``.

``FRONTDESK_OTA_CHANNEL`` picks the channel (one deployment, consumer group and breaker
per channel, so a down OTA holds back only its own pushes) and ``FRONTDESK_OTA_URL`` its
API. The work is in `ChannelSync`; see docs/consumers.md.

Availability and rate changes are never dead-lettered because the OTA is down: they are
in the mirror, pending, before the first push is tried. On the last attempt an
unavailable OTA is therefore accepted, and the fallback deployment's drain pushes the
coalesced state when the OTA is back. A refusal (4xx) still goes to the DLQ.
"""

from __future__ import annotations

import frontdesk
from consumers.common import wiring
from consumers.common.errors import DependencyError
from consumers.sync.ota import dependency_name
from consumers.sync.wiring import channel_sync
from frontdesk.events import (
    AvailabilityChanged,
    ChannelBookingAcknowledged,
    ChannelSyncRequested,
    RateChanged,
    RoomTypeCapacityChanged,
)

CHANNEL = wiring.settings().ota_channel
DEPENDENCY = dependency_name(CHANNEL)
"""What this deployment's handlers depend on: the breaker that diverts them to fallback."""
ATTEMPTS = 4
"""Deliveries of a push before it is left to the fallback drain."""

app = frontdesk.App(f"sync-{CHANNEL.value}", queue="sync")


@app.handler(AvailabilityChanged, max_attempts=ATTEMPTS, dependency=DEPENDENCY)
async def availability_changed(event: AvailabilityChanged, ctx: frontdesk.Context) -> None:
    try:
        await channel_sync().availability_changed(event)
    except DependencyError:
        if ctx.attempt < ATTEMPTS:
            raise
        ctx.log.warning("%s down; %s stays pending for the drain", DEPENDENCY, ctx.event_id)


@app.handler(RateChanged, max_attempts=ATTEMPTS, dependency=DEPENDENCY)
async def rate_changed(event: RateChanged, ctx: frontdesk.Context) -> None:
    try:
        await channel_sync().rate_changed(event)
    except DependencyError:
        if ctx.attempt < ATTEMPTS:
            raise
        ctx.log.warning("%s down; %s stays pending for the drain", DEPENDENCY, ctx.event_id)


@app.handler(RoomTypeCapacityChanged, max_attempts=ATTEMPTS, dependency=DEPENDENCY)
async def capacity_changed(event: RoomTypeCapacityChanged, ctx: frontdesk.Context) -> None:
    try:
        await channel_sync().capacity_changed(event)
    except DependencyError:
        if ctx.attempt < ATTEMPTS:
            raise
        ctx.log.warning("%s down; %s stays pending for the drain", DEPENDENCY, ctx.event_id)


@app.handler(ChannelSyncRequested, dependency=DEPENDENCY)
async def sync_requested(event: ChannelSyncRequested, ctx: frontdesk.Context) -> None:
    await channel_sync().sync_requested(event)


@app.handler(ChannelBookingAcknowledged, dependency=DEPENDENCY)
async def booking_acknowledged(event: ChannelBookingAcknowledged, ctx: frontdesk.Context) -> None:
    await channel_sync().booking_acknowledged(event)
