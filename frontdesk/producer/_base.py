"""What the sync and asyncio producers share: construction, routing, back-pressure.

Built from `Settings` (cluster from `connection.client_config`, topology from the
settings' topology file) unless a test passes explicit `config` and `topology`.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

import confluent_kafka
from confluent_kafka import KafkaException
from opentelemetry.trace import TracerProvider

from frontdesk import naming
from frontdesk.codec import Codec, default_codec
from frontdesk.contracts.schemas_topic import SchemaPublisher
from frontdesk.errors import DeliveryError
from frontdesk.events import Event
from frontdesk.producer.config import producer_config
from frontdesk.producer.routing import Outgoing, Router
from frontdesk.producer.tracing import SendTracer
from frontdesk.settings import Settings
from frontdesk.topology import Topology, load_topology
from frontdesk.trace_export import TracingConfigError, install_tracing

log = logging.getLogger(__name__)

SERVICE_NAME = "frontdesk-producer"
"""The service spans are reported under unless ``OTEL_SERVICE_NAME`` says otherwise."""
DEFAULT_BUFFER_TIMEOUT = 30.0
"""Seconds `send()` waits for room in a full buffer before giving up with DeliveryError."""


def _install_tracing() -> None:
    """Export spans where ``OTEL_*`` says, unless the PMS installed its own provider. A
    variable the SDK cannot honour must not stop the PMS from sending: it is logged."""
    try:
        install_tracing(SERVICE_NAME)
    except TracingConfigError as exc:
        log.error("producer spans are not exported: %s", exc)


class ProducerBase:
    """Routing, encoding and the librdkafka producer; subclasses add the waiting style."""

    def __init__(
        self,
        settings: Settings | None = None,
        *,
        config: Mapping[str, Any] | None = None,
        topology: Topology | None = None,
        codec: Codec | None = None,
        tracer_provider: TracerProvider | None = None,
        buffer_timeout: float = DEFAULT_BUFFER_TIMEOUT,
        **overrides: Any,
    ) -> None:
        if settings is None and (config is None or topology is None):
            settings = Settings()
        if topology is None:
            assert settings is not None
            topology = load_topology(settings.topology)
        self.topology = topology
        codec = codec or default_codec()
        self.router = Router(topology, codec)
        self.config = producer_config(settings, config, **overrides)
        self.buffer_timeout = buffer_timeout
        if tracer_provider is None:
            _install_tracing()
        self._tracer = SendTracer(tracer_provider)
        self._kafka = confluent_kafka.Producer(self.config)
        self._schemas = SchemaPublisher(
            self._kafka, naming.schemas_topic(topology.namespace), codec.registry
        )
        self._closed = False
        self._opened()

    def _opened(self) -> None:
        """Hook for subclasses, run at the end of construction."""

    def prepare(self, event: Event) -> Outgoing:
        """Validate, encode and address `event` (nothing is sent)."""
        if self._closed:
            raise RuntimeError("producer is closed")
        return self.router.prepare(event)

    def _start_span(self, event: Event, record: Outgoing) -> Any:
        return self._tracer.start(record, event.event_type, event.meta.tenant_id)

    def _try_produce(self, record: Outgoing, callback: Any) -> bool:
        """Hand the record to librdkafka; False when its buffer is full."""
        self._schemas.before_send(record.value)
        try:
            self._kafka.produce(
                record.topic,
                record.value,
                record.key,
                on_delivery=callback,
                headers=record.headers,  # type: ignore[arg-type]
            )
        except BufferError:
            return False
        except KafkaException as exc:
            # Refused before queuing (e.g. larger than message.max.bytes): nothing was sent.
            raise DeliveryError(
                f"event {record.event_id} refused by the producer: {exc.args[0]}",
                event_id=record.event_id,
                topic=record.topic,
                error=exc.args[0] if exc.args else None,
            ) from exc
        return True

    def _buffer_full(self, record: Outgoing, waited: float) -> DeliveryError:
        return DeliveryError(
            f"event {record.event_id} not sent: the producer buffer stayed full for "
            f"{waited:.1f}s (Kafka unreachable or slower than the PMS sends; "
            f"{len(self._kafka)} events waiting)",
            event_id=record.event_id,
            topic=record.topic,
        )

    def __len__(self) -> int:
        """Events handed to librdkafka and not yet confirmed or refused."""
        return len(self._kafka)


__all__ = ["DEFAULT_BUFFER_TIMEOUT", "ProducerBase"]
