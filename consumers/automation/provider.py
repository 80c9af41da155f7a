"""The client for a messaging provider (e-mail/SMS/WhatsApp gateway).

``POST /v1/messages`` with an ``Idempotency-Key`` of tenant and notification id, so a
message re-sent after a crash (sent, but not yet recorded as sent) is delivered once by a
provider that honours the key. Failures map as for every external call
(`consumers.common.http`): timeouts/429/5xx retryable, other 4xx non-retryable.
"""

from __future__ import annotations

from dataclasses import dataclass
from types import TracebackType
from typing import Self

import httpx

from consumers.common.http import call


@dataclass(frozen=True, slots=True)
class Outgoing:
    tenant_id: str
    reference: str
    """Our id of the message (the notification id); the idempotency key is built from it."""
    to: str
    channel: str
    subject: str | None
    body: str

    @property
    def idempotency_key(self) -> str:
        return f"{self.tenant_id}:{self.reference}"


class MessagingClient:
    """Sends messages through one provider; ``name`` tells primary from secondary."""

    def __init__(
        self,
        base_url: str,
        *,
        name: str = "primary",
        timeout: float = 10.0,
        http: httpx.AsyncClient | None = None,
    ) -> None:
        self.name = name
        self.dependency = f"messaging:{name}"
        self._http = http or httpx.AsyncClient(base_url=base_url, timeout=timeout)

    async def send(self, message: Outgoing) -> str:
        """Hand ``message`` to the provider; the provider's message id."""
        response = await call(
            self._http,
            "POST",
            "/v1/messages",
            dependency=self.dependency,
            json={
                "to": message.to,
                "channel": message.channel,
                "subject": message.subject,
                "body": message.body,
                "tenant_id": message.tenant_id,
                "reference": message.reference,
            },
            headers={"Idempotency-Key": message.idempotency_key},
        )
        return str(response.json()["id"])

    async def aclose(self) -> None:
        await self._http.aclose()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()


__all__ = ["MessagingClient", "Outgoing"]
