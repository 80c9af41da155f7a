"""A fake messaging provider (e-mail/SMS/WhatsApp gateway) for the automation deployment.

``POST /v1/messages`` with an ``Idempotency-Key`` header, as
`consumers.automation.provider.MessagingClient` sends it. A repeated key returns the first
message's id and delivers nothing new, like real providers do, so a test can tell "sent
twice" from "asked twice". Faults come from `LoopbackServer` (500, 429, slow).

Standalone, for demos: ``python -m consumers.fakes.messaging --port 8082``.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Annotated

from fastapi import FastAPI, Header
from pydantic import BaseModel, Field

from consumers.fakes._server import LoopbackServer, serve_until_interrupted


class MessageRequest(BaseModel):
    to: str = Field(min_length=1)
    channel: str = Field(min_length=1)
    subject: str | None = None
    body: str = Field(min_length=1)
    tenant_id: str = Field(min_length=1)
    reference: str = Field(min_length=1)


@dataclass(frozen=True, slots=True)
class Delivered:
    id: str
    key: str | None
    message: MessageRequest


class FakeMessaging(LoopbackServer):
    """The fake provider served on loopback; ``delivered`` lists messages sent once each."""

    def __init__(self, *, name: str = "primary", port: int = 0) -> None:
        self.name = name
        self._lock = threading.Lock()
        self._delivered: list[Delivered] = []
        self._by_key: dict[str, str] = {}
        super().__init__(self._build(), port=port)

    @property
    def delivered(self) -> list[Delivered]:
        with self._lock:
            return list(self._delivered)

    def _build(self) -> FastAPI:
        app = FastAPI(title="fake messaging", docs_url=None, redoc_url=None, openapi_url=None)

        @app.post("/v1/messages", status_code=202)
        def send(
            body: MessageRequest,
            idempotency_key: Annotated[str | None, Header(alias="Idempotency-Key")] = None,
        ) -> dict[str, str]:
            with self._lock:
                if idempotency_key is not None and idempotency_key in self._by_key:
                    return {"id": self._by_key[idempotency_key], "duplicate": "true"}
                message_id = f"{self.name}-{len(self._delivered) + 1}"
                self._delivered.append(Delivered(message_id, idempotency_key, body))
                if idempotency_key is not None:
                    self._by_key[idempotency_key] = message_id
            return {"id": message_id}

        return app


def main(argv: list[str] | None = None) -> None:
    serve_until_interrupted(
        lambda port: FakeMessaging(port=port),
        description="Run the fake messaging provider.",
        port=8082,
        banner=lambda url: f"fake messaging provider on {url}",
        argv=argv,
    )


if __name__ == "__main__":
    main()


__all__ = ["Delivered", "FakeMessaging", "MessageRequest"]
