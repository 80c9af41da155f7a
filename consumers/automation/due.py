"""Send scheduled notifications when they fall due: ``python -m consumers.automation.due``.

A loop, not a handler: nothing arrives on Kafka when a ``send_at`` comes. Run one per
store; a provider failure is logged and the messages stay scheduled for the next pass.
"""

from __future__ import annotations

import argparse
import asyncio
import logging

from consumers.automation.wiring import dispatcher
from consumers.common.errors import DependencyError

log = logging.getLogger(__name__)


async def run(interval: float, once: bool = False) -> None:
    while True:
        try:
            sent = await dispatcher().send_due()
            if sent:
                log.info("sent %d scheduled notification(s)", sent)
        except DependencyError as exc:
            log.warning("provider unavailable, retrying next pass: %s", exc)
        if once:
            return
        await asyncio.sleep(interval)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--interval", type=float, default=30.0, help="seconds between passes")
    parser.add_argument("--once", action="store_true", help="one pass, then exit")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO)
    asyncio.run(run(args.interval, args.once))


if __name__ == "__main__":
    main()
