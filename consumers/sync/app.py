"""The sync deployment for one channel: ``frontdesk worker consumers.sync.app:app``.

``FRONTDESK_OTA_CHANNEL`` picks the channel (one deployment, consumer group and circuit
breaker per channel, so a down OTA holds back only its own pushes) and
``FRONTDESK_OTA_URL`` its API. The work is in `ChannelSync`; see docs/consumers.md.
"""

from __future__ import annotations

import functools

import frontdesk
from consumers.common import wiring
from consumers.sync.ota import OtaClient, dependency_name
from consumers.sync.service import ChannelSync
from frontdesk.events import (
    AvailabilityChanged,
    ChannelBookingAcknowledged,
    ChannelSyncRequested,
    RateChanged,
)

CHANNEL = wiring.settings().ota_channel
DEPENDENCY = dependency_name(CHANNEL)
"""What this deployment's handlers depend on: the breaker that diverts them to fallback."""

app = frontdesk.App(f"sync-{CHANNEL.value}", queue="sync")


@functools.cache
def sync() -> ChannelSync:
    s = wiring.settings()
    return ChannelSync(wiring.store(), OtaClient(s.ota_url, CHANNEL, timeout=s.http_timeout))


@app.handler(AvailabilityChanged)
async def availability_changed(event: AvailabilityChanged, ctx: frontdesk.Context) -> None:
    await sync().availability_changed(event)


@app.handler(RateChanged)
async def rate_changed(event: RateChanged, ctx: frontdesk.Context) -> None:
    await sync().rate_changed(event)


@app.handler(ChannelSyncRequested)
async def sync_requested(event: ChannelSyncRequested, ctx: frontdesk.Context) -> None:
    await sync().sync_requested(event)


@app.handler(ChannelBookingAcknowledged)
async def booking_acknowledged(event: ChannelBookingAcknowledged, ctx: frontdesk.Context) -> None:
    await sync().booking_acknowledged(event)
