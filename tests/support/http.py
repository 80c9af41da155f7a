"""Talking to the HTTP endpoints of processes a test started: a free port, a JSON probe,
Prometheus scrapes."""

from __future__ import annotations

import socket
from typing import Any

import httpx
from prometheus_client.parser import text_string_to_metric_families


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def probe(port: int, path: str) -> tuple[int, Any]:
    """``(status, JSON body)`` of ``GET path``; ``(0, None)`` while nothing answers."""
    try:
        response = httpx.get(f"http://127.0.0.1:{port}{path}", timeout=5)
    except httpx.HTTPError:
        return 0, None
    try:
        return response.status_code, response.json()
    except ValueError:
        return response.status_code, response.text


def answers(port: int, path: str, status: int, seen: dict[str, Any]) -> bool:
    """Whether ``GET path`` answers ``status`` now; keeps the body in ``seen[path]``."""
    code, body = probe(port, path)
    seen[path] = body
    return code == status


def scrape(port: int) -> str:
    try:
        return httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=2).text
    except httpx.HTTPError:
        return ""


def sample(text: str, name: str, **labels: str) -> float | None:
    """The value of the sample ``name`` whose labels include ``labels`` (summed if several)."""
    found = None
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            if s.name == name and all(s.labels.get(k) == v for k, v in labels.items()):
                found = (found or 0.0) + s.value
    return found
