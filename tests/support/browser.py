"""Driving the console in headless Chromium: Debian's browser and a login (the console
itself is served by `tests.support.console.serve`).

Debian's ``chromium`` (``apt-get install -y chromium``, or ``FRONTDESK_CHROMIUM``) is used,
never Playwright's own download; when it is missing the test FAILS, it does not skip.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = os.environ.get("FRONTDESK_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",  # CI runs as root, where Chromium's sandbox cannot start
    "--disable-gpu",
    "--disable-background-networking",  # no calls home from a test machine
    "--disable-component-update",
    "--no-first-run",
]


def browser_path() -> str:
    found = CHROMIUM if Path(CHROMIUM).exists() else shutil.which("chromium")
    if not found:
        pytest.fail(
            f"Chromium not found at {CHROMIUM}: install it (apt-get install -y chromium) or "
            "set FRONTDESK_CHROMIUM; the console e2e test does not skip",
            pytrace=False,
        )
    return found


def log_in(page: Any, base: str, username: str, password: str) -> None:
    page.goto(f"{base}/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    page.click("button[type=submit]")
