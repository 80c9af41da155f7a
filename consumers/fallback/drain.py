"""The fallback deployment's recovery loop: ``python -m consumers.fallback.drain``.

Every ``--interval`` seconds: push the channel state still pending in the sync mirror
(coalesced), and send the message outbox through the primary provider. Each step stops
quietly while its dependency is still down, so the loop is safe to run all the time.
"""

from __future__ import annotations

import logging

from consumers.common import loop
from consumers.fallback.wiring import deferred_messages, deferred_pushes

log = logging.getLogger(__name__)


async def drain_once() -> tuple[int, int]:
    """(ranges pushed to the channel, messages sent from the outbox)."""
    pushed = await deferred_pushes().drain()
    sent = await deferred_messages().drain()
    return (0 if pushed is None else pushed.total), sent


async def _recover() -> None:
    pushed, sent = await drain_once()
    if pushed or sent:
        log.info("recovered: %d channel push(es), %d message(s)", pushed, sent)


async def run(interval: float, once: bool = False) -> None:
    await loop.periodically(_recover, interval, once)


def main(argv: list[str] | None = None) -> None:
    loop.main(__doc__, run, argv)


if __name__ == "__main__":
    main()
