"""Channel pushes while the OTA is down: record now, push the coalesced state later.

A diverted AvailabilityChanged or RateChanged is only recorded in the sync mirror, where it
stays pending. `drain` pushes everything pending as the few ranges that describe the
latest state per room type (ten changes to one week become one push), and stops quietly
while the OTA still fails: the mirror keeps the work, so nothing needs retrying or
dead-lettering because a channel is down.
"""

from __future__ import annotations

import logging

from consumers.common.errors import DependencyError
from consumers.common.run import in_thread
from consumers.sync.service import ChannelSync, Pushed
from frontdesk.events import AvailabilityChanged, RateChanged, RoomTypeCapacityChanged

log = logging.getLogger(__name__)


class DeferredPushes:
    """Degraded channel sync over the same mirror the sync deployment uses."""

    def __init__(self, sync: ChannelSync) -> None:
        self.sync = sync

    async def record(
        self, event: AvailabilityChanged | RateChanged | RoomTypeCapacityChanged
    ) -> None:
        """Keep the change pending; no call to the OTA."""
        await in_thread(self.sync.record, event)

    async def drain(self) -> Pushed | None:
        """Push all pending state; None when the OTA is still unavailable."""
        try:
            return await self.sync.flush()
        except DependencyError as exc:
            log.info("%s still unavailable, pushes stay pending: %s", exc.dependency, exc)
            return None


__all__ = ["DeferredPushes"]
