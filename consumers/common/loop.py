"""The shape of a deployment's periodic loop (``python -m ...``): one pass now, then one
every ``--interval`` seconds, or a single pass with ``--once``."""

from __future__ import annotations

import argparse
import asyncio
import logging
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any


async def periodically(
    one_pass: Callable[[], Awaitable[object]], interval: float, once: bool
) -> None:
    """Await ``one_pass`` now and then every ``interval`` seconds; just once with ``once``."""
    while True:
        await one_pass()
        if once:
            return
        await asyncio.sleep(interval)


def main(
    description: str | None,
    run: Callable[[float, bool], Coroutine[Any, Any, None]],
    argv: list[str] | None = None,
) -> None:
    """Parse ``--interval``/``--once``, log at INFO, and run the loop until it returns."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--interval", type=float, default=30.0, help="seconds between passes")
    parser.add_argument("--once", action="store_true", help="one pass, then exit")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO)
    asyncio.run(run(args.interval, args.once))


__all__ = ["main", "periodically"]
