"""From a typed event to exactly what goes on the wire: topic, key, bytes and headers.

Shared by the producers and the outbox so that an event written through the outbox and
relayed later is byte-for-byte the record a direct send would have produced. Everything
that depends only on the event type and tenant (topic, constant headers) is computed once
and cached; per event there is one re-validation (see `Event.validated`) and one encode.
"""

from __future__ import annotations

from typing import NamedTuple

from frontdesk import headers as h
from frontdesk.codec import Codec
from frontdesk.errors import EventValidationError
from frontdesk.events import EVENT_TYPES, Event
from frontdesk.topology import Topology

Header = tuple[str, bytes]


class Outgoing(NamedTuple):
    """One record ready for `Producer.produce`."""

    topic: str
    key: bytes
    value: bytes
    headers: list[Header]
    event_id: str


class _Route(NamedTuple):
    topic: str
    headers: tuple[Header, ...]
    """Tenant, event type and schema fingerprint: the same for every event of the route."""


class Router:
    """Validates, encodes and addresses events for one topology."""

    def __init__(self, topology: Topology, codec: Codec) -> None:
        self.topology = topology
        self.codec = codec
        self._routes: dict[tuple[type[Event], str], _Route] = {}

    def prepare(self, event: Event) -> Outgoing:
        """The record for `event`; `EventValidationError` (naming the field) if it is unfit.

        The event is re-validated first: a model built with `model_construct`, changed with
        `model_copy(update=...)` or of a foreign subclass never reaches the encoder.
        """
        if not isinstance(event, Event):
            raise EventValidationError(
                f"expected a frontdesk event, got {type(event).__name__}", field=None
            )
        event = event.validated()
        meta = event.meta
        tenant = meta.tenant_id
        route = self._routes.get((type(event), tenant))
        if route is None:
            route = self._route(type(event), tenant)
        event_id = str(meta.event_id)
        headers = [*route.headers, (h.EVENT_ID, event_id.encode())]
        key = f"{tenant}/{meta.property_id}".encode()
        return Outgoing(route.topic, key, self.codec.encode(event), headers, event_id)

    def _route(self, event_type: type[Event], tenant: str) -> _Route:
        if EVENT_TYPES.get(event_type.event_type) is not event_type:
            raise EventValidationError(
                f"{event_type.__name__} is not a shipped event type (a subclass or a copy of "
                "one is refused: its validation is not the contract's)",
                field="meta.event_type",
            )
        try:
            version = self.codec.registry.latest(event_type.event_type)
        except Exception as exc:  # unknown type: SchemaError from the registry
            raise EventValidationError(
                f"{event_type.__name__} is not a shipped event type", field="meta.event_type"
            ) from exc
        route = _Route(
            self.topology.main_topic_for(event_type.queue, tenant),
            (
                (h.TENANT, tenant.encode()),
                (h.EVENT_TYPE, event_type.event_type.encode()),
                (h.SCHEMA_FINGERPRINT, version.fingerprint_hex.encode()),
            ),
        )
        self._routes[(event_type, tenant)] = route
        return route


__all__ = ["Outgoing", "Router"]
