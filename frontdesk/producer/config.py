"""The librdkafka settings every frontdesk producer uses, each with the reason it is set.

One function so that the SDK, the outbox relay and the benchmark's raw baseline run with
exactly the same settings: a benchmark against a differently tuned baseline measures the
tuning, not the SDK.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from frontdesk.connection import client_config
from frontdesk.settings import Settings

PRODUCER_DEFAULTS: Mapping[str, Any] = {
    # Every in-sync replica must have the event before it counts as delivered.
    "acks": "all",
    # Retries never duplicate or reorder within a partition: a property's events stay in
    # the order the PMS sent them even when a request is retried.
    "enable.idempotence": True,
    # Java's murmur2 on the key, so Java, faust and Python producers pick the same
    # partition for a property (librdkafka's default is CRC32 `consistent_random`).
    "partitioner": "murmur2_random",
    # lz4: events are small Avro records sharing many strings per batch; lz4 compresses
    # them well at a fraction of zstd's CPU, and the producer runs inside the PMS process.
    "compression.type": "lz4",
    # A few ms of batching turns thousands of tiny requests into a few large ones; an
    # interactive PMS request does not notice 5 ms.
    "linger.ms": 5,
    # Bounded buffer: past this the producer pushes back (waits) instead of growing memory
    # without limit while Kafka is slow or down.
    "queue.buffering.max.messages": 100_000,
    "queue.buffering.max.kbytes": 64 * 1024,
    # Give up on an event after 2 minutes and report it with its id, rather than holding
    # it (and the PMS's memory) forever.
    "message.timeout.ms": 120_000,
}


def producer_config(
    settings: Settings | None = None,
    config: Mapping[str, Any] | None = None,
    **overrides: Any,
) -> dict[str, Any]:
    """Connection (explicit `config`, else `client_config(settings)`) + our defaults + overrides."""
    base = dict(config) if config is not None else client_config(settings)
    return {**PRODUCER_DEFAULTS, **base, **overrides}


__all__ = ["PRODUCER_DEFAULTS", "producer_config"]
