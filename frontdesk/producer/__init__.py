"""The producer SDK a PMS embeds: one call sends a typed event, and no event is lost quietly.

::

    from frontdesk.producer import Producer

    with Producer() as producer:                  # cluster + topology from Settings
        producer.send(event)                      # validated, encoded, routed, keyed, traced
        producer.send(other, wait=True)           # returns once Kafka confirmed it
    # leaving the block flushes: every event is confirmed or a DeliveryError is raised

`AsyncProducer` is the same for asyncio (`await producer.send(event)`). For "no lost event
even when Kafka is down", write events through `frontdesk.outbox` in the PMS's own database
transaction and let the relay publish them.
"""

from frontdesk.errors import DeliveryError, EventValidationError
from frontdesk.producer.aio import AsyncProducer
from frontdesk.producer.config import PRODUCER_DEFAULTS, producer_config
from frontdesk.producer.delivery import Delivered, Delivery
from frontdesk.producer.routing import Outgoing, Router
from frontdesk.producer.sync import Producer

__all__ = [
    "PRODUCER_DEFAULTS",
    "AsyncProducer",
    "Delivered",
    "Delivery",
    "DeliveryError",
    "EventValidationError",
    "Outgoing",
    "Producer",
    "Router",
    "producer_config",
]
