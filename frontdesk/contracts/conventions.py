"""House rules for schemas that Avro itself does not enforce.

They keep the contract usable by people and evolvable by machines: a `doc` everywhere
(the catalogue is generated from it), a default on every enum (so a symbol can be added
without breaking old readers), money as decimal with a currency (never float), the shared
envelope first, and a queue and ordering that never change between versions (they decide
topics and worker behaviour, so changing them is a new event type, not a new version).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from frontdesk.contracts.registry import SchemaRegistry, SchemaVersion, default_registry

META_TYPE = "frontdesk.common.EventMeta"
FORMATS = frozenset({"tenant_id", "property_id", "id", "text", "currency"})
_MONEY_WORDS = ("amount", "price", "fee", "balance", "total", "cost")


def find_convention_issues(registry: SchemaRegistry | None = None) -> list[str]:
    """Every house rule broken by any shipped schema version."""
    registry = registry or default_registry()
    issues: list[str] = []
    for event_type in registry.event_types:
        versions = registry.versions(event_type)
        for sv in versions:
            issues += [f"{event_type} v{sv.version}: {p}" for p in _version_issues(sv)]
        first = versions[0]
        for sv in versions[1:]:
            if (sv.queue, sv.ordered) != (first.queue, first.ordered):
                issues.append(
                    f"{event_type} v{sv.version}: queue/ordered changed from v1 "
                    f"({first.queue}, {first.ordered}) to ({sv.queue}, {sv.ordered})"
                )
    return issues


def _version_issues(sv: SchemaVersion) -> Iterator[str]:
    fields = sv.schema["fields"]
    meta = fields[0] if fields else {}
    meta_type = meta.get("type")
    meta_name = meta_type.get("name") if isinstance(meta_type, dict) else meta_type
    meta_ns = meta_type.get("namespace") if isinstance(meta_type, dict) else None
    if meta.get("name") != "meta" or f"{meta_ns}.{meta_name}" != META_TYPE:
        yield f"first field must be 'meta' of type {META_TYPE}"
    yield from _walk(sv.schema, sv.schema["name"])


def _walk(node: Any, where: str) -> Iterator[str]:
    if isinstance(node, list):
        for branch in node:
            yield from _walk(branch, where)
        return
    if not isinstance(node, dict):
        return
    kind = node["type"]
    if kind in ("record", "enum") and not node.get("doc"):
        yield f"{kind} {node['name']} has no doc"
    if kind == "enum" and node.get("default") not in node["symbols"]:
        yield f"enum {node['name']} needs a default symbol so it can grow"
    if kind == "record":
        names = {f["name"] for f in node["fields"]}
        for field in node["fields"]:
            yield from _field_issues(field, names, f"{where}.{field['name']}")
            yield from _walk(field["type"], f"{where}.{field['name']}")
    elif kind == "array":
        yield from _walk(node["items"], where)
    elif kind == "map":
        yield from _walk(node["values"], where)


def _field_issues(field: dict[str, Any], siblings: set[str], where: str) -> Iterator[str]:
    if not field.get("doc"):
        yield f"field {where} has no doc"
    fmt = field.get("frontdesk.format")
    if fmt is not None and fmt not in FORMATS:
        yield f"field {where}: unknown frontdesk.format {fmt!r} (known: {sorted(FORMATS)})"
    for key in ("frontdesk.before", "frontdesk.not_after"):
        if (other := field.get(key)) is not None and other not in siblings:
            yield f"field {where}: {key} names no field of the record: {other!r}"
    types = field["type"] if isinstance(field["type"], list) else [field["type"]]
    if any(_is_decimal(t) for t in types) and "currency" not in siblings:
        yield f"field {where}: a money amount needs a 'currency' field beside it"
    if any(t in ("float", "double") for t in types) and any(
        word in field["name"] for word in _MONEY_WORDS
    ):
        yield f"field {where}: money must be a decimal, never a float"


def _is_decimal(schema: Any) -> bool:
    return isinstance(schema, dict) and schema.get("logicalType") == "decimal"
