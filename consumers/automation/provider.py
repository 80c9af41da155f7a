"""The client for a messaging provider (e-mail/SMS/WhatsApp gateway).

``POST /v1/messages`` with an ``Idempotency-Key`` of tenant and notification id, so a
message re-sent after a crash (sent, but not yet recorded as sent) is delivered once by a
provider that honours the key. Failures map as for every external call
(`consumers.common.http`): timeouts/429/5xx retryable, other 4xx non-retryable.
"""

from __future__ import annotations

from dataclasses import dataclass

import httpx

from consumers.common.http import HttpClient


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


class MessagingClient(HttpClient):
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
        super().__init__(base_url, dependency=f"messaging:{name}", timeout=timeout, http=http)

    async def send(self, message: Outgoing) -> str:
        """Hand ``message`` to the provider; the provider's message id."""
        response = await self._call(
            "POST",
            "/v1/messages",
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


__all__ = ["MessagingClient", "Outgoing"]
