"""``frontdesk schemas check|generate|catalogue|list|publish``: the event contracts."""

from __future__ import annotations

from typing import Annotated

import typer

from frontdesk import naming
from frontdesk.cli.common import console, fail, friendly_errors, table, topology
from frontdesk.connection import client_config
from frontdesk.contracts import (
    check_schemas,
    default_registry,
    generate_models,
    schemas_dir,
    write_catalogue,
)
from frontdesk.errors import SchemaError

app = typer.Typer(help="Avro event contracts: compatibility proofs, models, catalogue.")


@app.command()
def check() -> None:
    """Prove every schema version compatible with every older one; fail naming the field."""
    try:
        registry = default_registry()
        problems = check_schemas(registry)
    except SchemaError as exc:
        fail(str(exc))
    if problems:
        for problem in problems:
            console.print(f"[red]✗[/] {problem}", highlight=False)
        fail(f"{len(problems)} problem(s) in {schemas_dir()}")
    versions = sum(len(registry.versions(t)) for t in registry.event_types)
    console.print(
        f"[green]ok[/] {len(registry.event_types)} event types, {versions} versions: "
        "compatible, conventions kept, models and catalogue current"
    )


@app.command()
def generate() -> None:
    """Regenerate the pydantic models in frontdesk/events/_generated.py from the schemas."""
    changed = generate_models()
    console.print("models regenerated" if changed else "models already current")


@app.command()
def catalogue() -> None:
    """Regenerate the event catalogue page (docs/events.md)."""
    changed = write_catalogue()
    console.print("catalogue regenerated" if changed else "catalogue already current")


@app.command()
def publish() -> None:
    """Publish every schema version to the schemas topic (idempotent), so that consumers
    which do not ship a version can still read it."""
    from frontdesk.contracts.schemas_topic import publish_registry  # noqa: PLC0415 - Kafka

    with friendly_errors():
        try:
            registry = default_registry()
        except SchemaError as exc:
            fail(str(exc))
        topic = naming.schemas_topic(topology().namespace)
        written = publish_registry(client_config(), topic, registry)
    for version in written:
        console.print(f"published {version!r}", highlight=False)
    total = sum(1 for _ in registry)
    console.print(f"{topic}: {len(written)} published, {total - len(written)} already there")


@app.command(name="list")
def list_(
    event_type: Annotated[str | None, typer.Argument(help="Only this event type.")] = None,
) -> None:
    """Event types with their queue, ordering, versions and fingerprints."""
    registry = default_registry()
    types = table("event type", "queue", "ordered", "version", "fingerprint")
    for name in registry.event_types:
        if event_type and name != event_type:
            continue
        for version in registry.versions(name):
            types.add_row(
                name,
                str(version.queue),
                "yes" if version.ordered else "no",
                f"v{version.version}",
                version.fingerprint_hex,
            )
    console.print(types)
