"""The embedded local broker: real Apache Kafka from Maven Central, run with ``java``."""

from frontdesk.broker.errors import (
    BrokerDiedError,
    BrokerError,
    DownloadError,
    MissingToolError,
    PortInUseError,
)
from frontdesk.broker.local import DEFAULT_PORT, BrokerState, LocalBroker

__all__ = [
    "DEFAULT_PORT",
    "BrokerDiedError",
    "BrokerError",
    "BrokerState",
    "DownloadError",
    "LocalBroker",
    "MissingToolError",
    "PortInUseError",
]
