"""The outbox relay as a deployable process: `python -m producers.outbox_relay --db URL`.

Runs `frontdesk.outbox.Relay` until SIGTERM/SIGINT (finishing the batch in flight, so a
normal stop republishes nothing). Kill it at any instant and nothing is lost or reordered:
the next run republishes the unmarked tail (see `frontdesk.outbox.relay`). Exits non-zero
when Kafka permanently refuses an event, so the orchestrator restarts it and alerts.
"""

from __future__ import annotations

import argparse
import logging
import signal
import sys
from collections.abc import Sequence
from types import FrameType

from frontdesk.errors import DeliveryError
from frontdesk.outbox import DEFAULT_TABLE, Relay, RelayStats, open_store
from frontdesk.trace_export import TracingConfigError

log = logging.getLogger("frontdesk.outbox_relay")


def run_relay(
    db: str,
    *,
    table: str = DEFAULT_TABLE,
    batch_size: int = 500,
    until_empty: bool = False,
    create_table: bool = False,
    health_port: int | None = None,
) -> RelayStats:
    """Open the store, publish until stopped, close; SIGTERM/SIGINT stop it cleanly."""
    store = open_store(db, table)
    if create_table:
        store.create_table()
    relay = Relay(store, batch_size=batch_size, health_port=health_port)

    def stop(signum: int, _frame: FrameType | None) -> None:
        log.info("signal %d: finishing the current batch", signum)
        relay.stop()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    try:
        return relay.run(until_empty=until_empty)
    finally:
        relay.close()


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", required=True, help="sqlite:///path.db or postgresql://...")
    parser.add_argument("--table", default=DEFAULT_TABLE)
    parser.add_argument("--batch-size", type=int, default=500)
    parser.add_argument("--until-empty", action="store_true", help="exit when nothing is left")
    parser.add_argument("--create-table", action="store_true", help="create the table if missing")
    parser.add_argument("--health-port", type=int, help="serve /healthz and /readyz here")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    try:
        stats = run_relay(
            args.db,
            table=args.table,
            batch_size=args.batch_size,
            until_empty=args.until_empty,
            create_table=args.create_table,
            health_port=args.health_port,
        )
    except (DeliveryError, TracingConfigError) as exc:
        log.error("%s", exc)
        return 2
    log.info("published %d events in %d batches", stats.published, stats.batches)
    return 0


if __name__ == "__main__":
    sys.exit(main())
