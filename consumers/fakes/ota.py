"""A fake OTA (channel) API: records what the sync deployment pushes and what it now shows.

The API is the one `consumers.sync.ota.OtaClient` speaks::

    PUT /v1/{channel}/properties/{tenant}/{property}/availability   AvailabilityPush
    PUT /v1/{channel}/properties/{tenant}/{property}/rates          RatePush
    PUT /v1/{channel}/properties/{tenant}/{property}/bookings/{ref}/confirmation

Pushes are absolute values for a date range, so the fake keeps the resulting per-night
state (`availability`, `rates`) and a test can check that the channel converged on the
latest values, whatever order of failures and retries got it there. Bodies are validated
like a real API would (422 on a bad one). Faults come from `LoopbackServer`::

    with FakeOta() as ota:
        ota.rate_limit(retry_after=2, times=1)   # next push: 429, Retry-After: 2
        ota.fail(500)                            # every push: 500, until ota.recover()

Standalone, for demos: ``python -m consumers.fakes.ota --port 8081``; the faults are then
set with ``POST /_control/faults {"status": 500, "times": 3}``.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Annotated, Any

from fastapi import FastAPI, Header
from pydantic import BaseModel, Field, model_validator

from consumers.fakes._server import CONTROL, LoopbackServer, serve_until_interrupted

PREFIX = "/v1/{channel}/properties/{tenant_id}/{property_id}"
IdempotencyKey = Annotated[str | None, Header(alias="Idempotency-Key")]
"""Module level: routes' annotations are strings, resolved in this module's namespace."""


class AvailabilityPush(BaseModel):
    room_type_id: str = Field(min_length=1)
    start_date: date
    end_date: date
    units_available: int = Field(ge=0)
    min_stay: int | None = Field(default=None, ge=1)
    closed_to_arrival: bool = False
    closed_to_departure: bool = False

    @model_validator(mode="after")
    def _range(self) -> AvailabilityPush:
        if self.end_date < self.start_date:
            raise ValueError("end_date is before start_date")
        return self


class RatePush(BaseModel):
    room_type_id: str = Field(min_length=1)
    rate_plan_id: str = Field(min_length=1)
    start_date: date
    end_date: date
    amount: Decimal = Field(ge=0)
    currency: str = Field(pattern=r"^[A-Z]{3}$")
    occupancy: int = Field(ge=1)

    @model_validator(mode="after")
    def _range(self) -> RatePush:
        if self.end_date < self.start_date:
            raise ValueError("end_date is before start_date")
        return self


class BookingConfirmation(BaseModel):
    booking_id: str = Field(min_length=1)
    status: str = Field(pattern=r"^(accepted|rejected)$")


@dataclass(frozen=True, slots=True)
class Push:
    """One accepted call, as the OTA received it."""

    kind: str
    """``availability``, ``rates`` or ``confirmation``."""
    channel: str
    tenant_id: str
    property_id: str
    body: dict[str, Any]
    idempotency_key: str | None
    at: float


def _nights(start: date, end: date) -> list[date]:
    return [start + timedelta(days=i) for i in range((end - start).days + 1)]


class FakeOta(LoopbackServer):
    """The fake OTA served on loopback; see the module docstring."""

    def __init__(self, *, port: int = 0) -> None:
        self._lock = threading.Lock()
        self._pushes: list[Push] = []
        self._availability: dict[tuple[str, str, str, str, date], tuple[Any, ...]] = {}
        self._rates: dict[tuple[str, str, str, str, str, int, date], tuple[Any, ...]] = {}
        self.confirmations: dict[tuple[str, str, str], BookingConfirmation] = {}
        super().__init__(self._build(), port=port)

    @property
    def pushes(self) -> list[Push]:
        with self._lock:
            return list(self._pushes)

    def reset(self) -> None:
        """Forget pushes and state (faults stay; `recover` drops those)."""
        with self._lock:
            self._pushes.clear()
            self._availability.clear()
            self._rates.clear()
            self.confirmations.clear()

    def availability(
        self, channel: str, tenant_id: str, property_id: str, room_type_id: str
    ) -> dict[date, tuple[Any, ...]]:
        """Night -> (units, min_stay, closed_to_arrival, closed_to_departure) as shown now."""
        with self._lock:
            return {
                key[4]: value
                for key, value in sorted(self._availability.items())
                if key[:4] == (channel, tenant_id, property_id, room_type_id)
            }

    def rates(
        self,
        channel: str,
        tenant_id: str,
        property_id: str,
        room_type_id: str,
        *,
        rate_plan_id: str,
        occupancy: int,
    ) -> dict[date, tuple[Any, ...]]:
        """Night -> (amount, currency) as shown now."""
        wanted = (channel, tenant_id, property_id, room_type_id, rate_plan_id, occupancy)
        with self._lock:
            return {
                key[6]: value for key, value in sorted(self._rates.items()) if key[:6] == wanted
            }

    def _record(
        self, kind: str, where: tuple[str, str, str], body: BaseModel, key: str | None
    ) -> None:
        """Log an accepted push; ``where`` is (channel, tenant, property). Hold the lock."""
        self._pushes.append(Push(kind, *where, body.model_dump(mode="json"), key, time.time()))

    def _build(self) -> FastAPI:
        app = FastAPI(title="fake OTA", docs_url=None, redoc_url=None, openapi_url=None)

        @app.put(f"{PREFIX}/availability")
        def availability(
            channel: str,
            tenant_id: str,
            property_id: str,
            body: AvailabilityPush,
            idempotency_key: IdempotencyKey = None,
        ) -> dict[str, int]:
            nights = _nights(body.start_date, body.end_date)
            with self._lock:
                self._record(
                    "availability", (channel, tenant_id, property_id), body, idempotency_key
                )
                for night in nights:
                    key = (channel, tenant_id, property_id, body.room_type_id, night)
                    self._availability[key] = (
                        body.units_available,
                        body.min_stay,
                        body.closed_to_arrival,
                        body.closed_to_departure,
                    )
            return {"nights": len(nights)}

        @app.put(f"{PREFIX}/rates")
        def rates(
            channel: str,
            tenant_id: str,
            property_id: str,
            body: RatePush,
            idempotency_key: IdempotencyKey = None,
        ) -> dict[str, int]:
            nights = _nights(body.start_date, body.end_date)
            with self._lock:
                self._record("rates", (channel, tenant_id, property_id), body, idempotency_key)
                for night in nights:
                    key = (
                        channel,
                        tenant_id,
                        property_id,
                        body.room_type_id,
                        body.rate_plan_id,
                        body.occupancy,
                        night,
                    )
                    self._rates[key] = (body.amount, body.currency)
            return {"nights": len(nights)}

        @app.put(f"{PREFIX}/bookings/{{reference}}/confirmation")
        def confirmation(
            *,
            channel: str,
            tenant_id: str,
            property_id: str,
            reference: str,
            body: BookingConfirmation,
            idempotency_key: IdempotencyKey = None,
        ) -> dict[str, str]:
            with self._lock:
                self._record(
                    "confirmation", (channel, tenant_id, property_id), body, idempotency_key
                )
                self.confirmations[(channel, tenant_id, reference)] = body
            return {"reference": reference}

        @app.get(f"{CONTROL}/pushes")
        def pushes() -> list[dict[str, Any]]:
            return [
                {
                    "kind": p.kind,
                    "channel": p.channel,
                    "tenant_id": p.tenant_id,
                    "property_id": p.property_id,
                    "body": p.body,
                    "idempotency_key": p.idempotency_key,
                }
                for p in self.pushes
            ]

        return app


def main(argv: list[str] | None = None) -> None:
    serve_until_interrupted(
        lambda port: FakeOta(port=port),
        description="Run the fake OTA API on 127.0.0.1.",
        port=8081,
        banner=lambda url: f"fake OTA on {url} (faults: POST {url}{CONTROL}/faults)",
        argv=argv,
    )


if __name__ == "__main__":
    main()


__all__ = ["AvailabilityPush", "BookingConfirmation", "FakeOta", "Push", "RatePush"]
