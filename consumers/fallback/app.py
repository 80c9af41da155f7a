"""The fallback deployment: ``frontdesk worker consumers.fallback.app:app``.

It consumes ``pms.fallback``: events another deployment's worker diverted there because the
circuit breaker of a dependency they need was open (headers ``fd-diverted-from``,
``fd-dependency``, ``fd-divert-reason``). Each handler makes one call to a degraded path
(`consumers.fallback.wiring`):

- AvailabilityChanged, RateChanged, RoomTypeCapacityChanged: kept pending in the sync
  mirror, then the coalesced state is pushed as soon as the OTA answers. While it is
  still down the event goes through the fallback queue's retry tiers (a probe per
  attempt); on the last attempt it is accepted as it is, pending, for
  ``python -m consumers.fallback.drain``. Their order does
  not matter here (the mirror keeps the latest value by ``occurred_at``), so they do not
  hold keys in this deployment (``ordered=False``); the diverting deployment holds them.
- NotificationRequested: the secondary provider, else the message outbox.
- ChannelSyncRequested, ChannelBookingAcknowledged: a follow-up for a person.

The diverting worker releases its held key when the event succeeds here.
"""

from __future__ import annotations

import frontdesk
from consumers.common import wiring
from consumers.common.errors import DependencyError
from consumers.fallback.wiring import deferred_messages, deferred_pushes, follow_ups
from consumers.sync.ota import dependency_name
from frontdesk import headers
from frontdesk.events import (
    AvailabilityChanged,
    ChannelBookingAcknowledged,
    ChannelSyncRequested,
    NotificationRequested,
    RateChanged,
    RoomTypeCapacityChanged,
)

PUSH_ATTEMPTS = 10
"""Deliveries of a diverted push (one probe of the OTA each, at the fallback tiers' pace)
before it is left pending for the drain loop."""

app = frontdesk.App("fallback", queue="fallback")


def _why(ctx: frontdesk.Context) -> str:
    return headers.get(ctx.headers, headers.DIVERT_REASON) or "diverted"


def _dependency(ctx: frontdesk.Context) -> str | None:
    return headers.get(ctx.headers, headers.DEPENDENCY)


async def _push(
    event: AvailabilityChanged | RateChanged | RoomTypeCapacityChanged, ctx: frontdesk.Context
) -> None:
    await deferred_pushes().record(event)
    if await deferred_pushes().drain() is None and ctx.attempt < PUSH_ATTEMPTS:
        raise DependencyError(
            f"{_why(ctx)}; still unavailable",
            dependency=_dependency(ctx) or dependency_name(wiring.settings().ota_channel),
        )


@app.handler(AvailabilityChanged, max_attempts=PUSH_ATTEMPTS, ordered=False)
async def availability_changed(event: AvailabilityChanged, ctx: frontdesk.Context) -> None:
    await _push(event, ctx)


@app.handler(RateChanged, max_attempts=PUSH_ATTEMPTS, ordered=False)
async def rate_changed(event: RateChanged, ctx: frontdesk.Context) -> None:
    await _push(event, ctx)


@app.handler(RoomTypeCapacityChanged, max_attempts=PUSH_ATTEMPTS, ordered=False)
async def capacity_changed(event: RoomTypeCapacityChanged, ctx: frontdesk.Context) -> None:
    await _push(event, ctx)


@app.handler(NotificationRequested)
async def notification_requested(event: NotificationRequested, ctx: frontdesk.Context) -> None:
    await deferred_messages().defer(event, reason=_why(ctx))


@app.handler(ChannelSyncRequested)
def sync_requested(event: ChannelSyncRequested, ctx: frontdesk.Context) -> None:
    follow_ups().record(event, reason=_why(ctx), dependency=_dependency(ctx))


@app.handler(ChannelBookingAcknowledged)
def booking_acknowledged(event: ChannelBookingAcknowledged, ctx: frontdesk.Context) -> None:
    follow_ups().record(event, reason=_why(ctx), dependency=_dependency(ctx))
