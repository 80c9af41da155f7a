"""Turning an HTTP exchange with an external system into the runtime's two verdicts.

One mapping for every client (OTA, messaging provider), so an operator reads the same
thing in every DLQ: timeouts, connection failures, 408, 429 and 5xx are transient
(`DependencyError`, retried, Retry-After kept); any other 4xx means the request itself is
wrong (`RejectedError`, dead-lettered at once). `HttpClient` is what the clients share:
their connections, their dependency name and closing.
"""

from __future__ import annotations

from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from types import TracebackType
from typing import Any, Self

import httpx

from consumers.common.errors import DependencyError, RejectedError

TRANSIENT_STATUSES = frozenset({408, 425, 429})
"""4xx statuses that mean "not now" rather than "never"."""


async def call(
    client: httpx.AsyncClient,
    method: str,
    url: str,
    *,
    dependency: str,
    json: Any = None,
    headers: dict[str, str] | None = None,
) -> httpx.Response:
    """Send one request; return the 2xx/3xx response or raise the mapped error."""
    try:
        response = await client.request(method, url, json=json, headers=headers)
    except httpx.TimeoutException as exc:
        raise DependencyError(
            f"{dependency}: {method} {url} timed out", dependency=dependency
        ) from exc
    except httpx.TransportError as exc:
        raise DependencyError(
            f"{dependency}: {method} {url} failed: {exc!r}", dependency=dependency
        ) from exc
    status = response.status_code
    if status >= 500 or status in TRANSIENT_STATUSES:
        raise DependencyError(
            f"{dependency}: {method} {url} answered {status}: {_excerpt(response)}",
            dependency=dependency,
            status=status,
            retry_after=retry_after_seconds(response.headers.get("Retry-After")),
        )
    if status >= 400:
        raise RejectedError(
            f"{dependency}: {method} {url} refused with {status}: {_excerpt(response)}",
            dependency=dependency,
            status=status,
        )
    return response


class HttpClient:
    """One external system's client: its httpx connections, the ``dependency`` name its
    failures count against, and `call` for each request; use ``async with`` or `aclose`."""

    def __init__(
        self,
        base_url: str,
        *,
        dependency: str,
        timeout: float = 10.0,
        http: httpx.AsyncClient | None = None,
    ) -> None:
        self.dependency = dependency
        self._http = http or httpx.AsyncClient(base_url=base_url, timeout=timeout)

    async def _call(
        self,
        method: str,
        url: str,
        *,
        json: Any = None,
        headers: dict[str, str] | None = None,
    ) -> httpx.Response:
        return await call(
            self._http, method, url, dependency=self.dependency, json=json, headers=headers
        )

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


def retry_after_seconds(value: str | None, *, now: datetime | None = None) -> float | None:
    """Retry-After as seconds from now: either delta-seconds or an HTTP date (RFC 9110)."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


def _excerpt(response: httpx.Response, limit: int = 200) -> str:
    text = response.text.strip().replace("\n", " ")
    return text[:limit] + ("..." if len(text) > limit else "")


__all__ = ["TRANSIENT_STATUSES", "HttpClient", "call", "retry_after_seconds"]
