"""The client for a channel's OTA API: absolute, range-based pushes with idempotency keys.

Every push states the full values for a date range (not a delta), so pushing the same
thing twice is harmless and the latest push wins; the ``Idempotency-Key`` (a hash of what
is pushed) lets the OTA drop exact repeats. Failures are mapped in `consumers.common.http`:
429/5xx/timeouts are retryable `DependencyError`s carrying Retry-After, other 4xx are
`RejectedError`s. ``dependency`` ("ota:<channel>") names the circuit breaker this client's
failures count against.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass
from datetime import date
from decimal import Decimal
from typing import Any
from urllib.parse import quote

import httpx

from consumers.common.http import HttpClient
from frontdesk.events import Channel


@dataclass(frozen=True, slots=True)
class AvailabilityRange:
    """Sellable units and restrictions of a room type, the same on every night of a range."""

    room_type_id: str
    start_date: date
    end_date: date
    units_available: int
    min_stay: int | None
    closed_to_arrival: bool
    closed_to_departure: bool


@dataclass(frozen=True, slots=True)
class RateRange:
    """A rate plan's nightly price for an occupancy, the same on every night of a range."""

    room_type_id: str
    rate_plan_id: str
    occupancy: int
    start_date: date
    end_date: date
    amount: Decimal
    currency: str


def dependency_name(channel: Channel | str) -> str:
    """The dependency (circuit-breaker) name of a channel's OTA API."""
    return f"ota:{Channel(channel).value}"


class OtaClient(HttpClient):
    """Pushes to one channel's OTA API; use ``async with`` or `aclose`."""

    def __init__(
        self,
        base_url: str,
        channel: Channel | str,
        *,
        timeout: float = 10.0,
        http: httpx.AsyncClient | None = None,
    ) -> None:
        self.channel = Channel(channel)
        super().__init__(
            base_url, dependency=dependency_name(self.channel), timeout=timeout, http=http
        )

    async def push_availability(
        self, tenant_id: str, property_id: str, update: AvailabilityRange
    ) -> None:
        await self._put(tenant_id, property_id, "availability", _json(update))

    async def push_rates(self, tenant_id: str, property_id: str, update: RateRange) -> None:
        await self._put(tenant_id, property_id, "rates", _json(update))

    async def confirm_booking(
        self, tenant_id: str, property_id: str, channel_reference: str, booking_id: str
    ) -> None:
        """Tell the channel which PMS booking its reservation became."""
        path = f"bookings/{quote(channel_reference, safe='')}/confirmation"
        await self._put(
            tenant_id, property_id, path, {"booking_id": booking_id, "status": "accepted"}
        )

    async def _put(self, tenant_id: str, property_id: str, what: str, body: dict[str, Any]) -> None:
        url = (
            f"/v1/{self.channel.value}/properties/"
            f"{quote(tenant_id, safe='')}/{quote(property_id, safe='')}/{what}"
        )
        key = hashlib.sha256(json.dumps([url, body], sort_keys=True).encode()).hexdigest()[:32]
        await self._call("PUT", url, json=body, headers={"Idempotency-Key": key})


def _json(update: AvailabilityRange | RateRange) -> dict[str, Any]:
    return {
        k: (v.isoformat() if isinstance(v, date) else str(v) if isinstance(v, Decimal) else v)
        for k, v in asdict(update).items()
    }


__all__ = ["AvailabilityRange", "OtaClient", "RateRange", "dependency_name"]
