"""What can go wrong starting a local broker, each with a message that says what to do."""

from __future__ import annotations


class BrokerError(RuntimeError):
    """The local broker could not be provisioned, started or stopped."""


class MissingToolError(BrokerError):
    """``java`` or ``mvn`` is not on PATH."""


class DownloadError(BrokerError):
    """Maven could not resolve the Kafka jars."""


class PortInUseError(BrokerError):
    """Something else listens on a port the broker needs."""


class BrokerDiedError(BrokerError):
    """The broker process exited during start-up; the message carries its log's tail."""
