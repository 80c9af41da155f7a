"""Send scheduled notifications when they fall due: ``python -m consumers.automation.due``.

A loop, not a handler: nothing arrives on Kafka when a ``send_at`` comes. Run one per
store; a provider failure is logged and the messages stay scheduled for the next pass.
"""

from __future__ import annotations

import logging

from consumers.automation.wiring import dispatcher
from consumers.common import loop
from consumers.common.errors import DependencyError

log = logging.getLogger(__name__)


async def _send_due() -> None:
    """One pass: send what has fallen due; a provider failure leaves it for the next pass."""
    try:
        sent = await dispatcher().send_due()
        if sent:
            log.info("sent %d scheduled notification(s)", sent)
    except DependencyError as exc:
        log.warning("provider unavailable, retrying next pass: %s", exc)


async def run(interval: float, once: bool = False) -> None:
    await loop.periodically(_send_due, interval, once)


def main(argv: list[str] | None = None) -> None:
    loop.main(__doc__, run, argv)


if __name__ == "__main__":
    main()
