"""Waiting for an acknowledged admin change to show.

The controller acknowledges a change before every broker serves it (topic metadata, ACLs
in the authorizer): a client started right after ``apply`` could still be told the old
state. Each apply therefore polls until the broker reports the new one.
"""

from __future__ import annotations

import time
from collections.abc import Callable


def wait_until(missing: Callable[[], str | None], *, timeout: float, every: float = 0.1) -> None:
    """Poll ``missing`` (what is not reported yet, or ``None``) until it returns ``None``;
    past ``timeout``, raise `TimeoutError` with its last answer."""
    deadline = time.monotonic() + timeout
    while (still := missing()) is not None:
        if time.monotonic() > deadline:
            raise TimeoutError(still)
        time.sleep(every)


__all__ = ["wait_until"]
