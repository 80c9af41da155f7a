"""``frontdesk produce <EventType> --json '{...}' | --file event.json``: send one event.

The JSON holds the event's fields plus ``tenant_id`` and ``property_id`` (the envelope is
filled in), or a full event with its ``meta``. Invalid input is refused before anything is
sent, each problem naming its field.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer
from pydantic import ValidationError

from frontdesk.cli.common import console, fail, friendly_errors, settings
from frontdesk.errors import DeliveryError, EventValidationError
from frontdesk.events import EVENT_TYPES, Event


def parse_event(event_type: str, data: Any) -> Event:
    """Build and validate an event of `event_type` from decoded JSON; errors name fields."""
    model = EVENT_TYPES.get(event_type)
    if model is None:
        raise EventValidationError(
            f"unknown event type {event_type!r}; one of: {', '.join(sorted(EVENT_TYPES))}"
        )
    if not isinstance(data, dict):
        raise EventValidationError("the event JSON must be an object")
    try:
        if "meta" in data:
            return model.model_validate(data)
        fields = dict(data)
        tenant, prop = fields.pop("tenant_id", None), fields.pop("property_id", None)
        if tenant is None or prop is None:
            missing = "tenant_id" if tenant is None else "property_id"
            raise EventValidationError(f"{missing}: field required", field=missing)
        return model.new(tenant_id=tenant, property_id=prop, **fields)
    except ValidationError as exc:
        problems = [
            f"{'.'.join(str(p) for p in err['loc']) or '(event)'}: {err['msg']}"
            for err in exc.errors()
        ]
        first = exc.errors()[0]["loc"] if exc.errors() else ()
        raise EventValidationError(
            f"invalid {event_type}:\n  " + "\n  ".join(problems),
            field=".".join(str(p) for p in first) or None,
        ) from exc


def produce(
    event_type: Annotated[str, typer.Argument(help="Event type, e.g. BookingCreated.")],
    json_text: Annotated[str | None, typer.Option("--json", help="The event as JSON.")] = None,
    file: Annotated[Path | None, typer.Option("--file", help="A file holding the JSON.")] = None,
) -> None:
    """Validate, encode and send one event; print where Kafka stored it."""
    from frontdesk.producer import Producer  # noqa: PLC0415 - keep `--help` fast

    if (json_text is None) == (file is None):
        fail("give the event with exactly one of --json or --file")
    text = json_text if json_text is not None else file.read_text(encoding="utf-8")  # type: ignore[union-attr]
    try:
        data = json.loads(text)
        event = parse_event(event_type, data)
    except json.JSONDecodeError as exc:
        fail(f"not valid JSON: {exc}")
    except EventValidationError as exc:
        fail(str(exc))
    with friendly_errors():
        try:
            with Producer(settings()) as producer:
                done = producer.send(event, wait=True, timeout=60).result()
        except DeliveryError as exc:
            fail(str(exc))
    console.print(
        f"[green]sent[/] {event.event_type} {done.event_id} -> {done.topic} "
        f"[{done.partition}] @ {done.offset} (key {event.key})"
    )
