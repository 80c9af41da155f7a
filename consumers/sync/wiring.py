"""Building the sync deployment's `ChannelSync` from the settings (shared by the app and
the fallback deployment, which push through the same mirror)."""

from __future__ import annotations

import functools

from consumers.common import wiring
from consumers.sync.ota import OtaClient
from consumers.sync.service import ChannelSync


@functools.cache
def channel_sync() -> ChannelSync:
    s = wiring.settings()
    return ChannelSync(wiring.store(), OtaClient(s.ota_url, s.ota_channel, timeout=s.http_timeout))


__all__ = ["channel_sync"]
