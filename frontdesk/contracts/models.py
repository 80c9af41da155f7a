"""Renders the pydantic event models from the schemas, so the two cannot drift.

The schemas are the contract; `frontdesk/events/_generated.py` is derived from the latest
version of each event type and committed, and a unit test regenerates it and compares.
Run `python -m frontdesk.contracts.generate` after changing a schema.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from frontdesk.contracts.registry import SchemaRegistry, default_registry
from frontdesk.errors import SchemaError

MODELS_PATH = Path(__file__).resolve().parents[1] / "events" / "_generated.py"
"""Where the generated models live inside the package."""

_FORMATS = {
    "tenant_id": "TenantId",
    "property_id": "PropertyId",
    "id": "Id",
    "text": "Text",
    "currency": "Currency",
}
_RESERVED = frozenset({"event_type", "queue", "ordered", "schema_version", "key", "new"})
_HEADER = '''\
"""Event models generated from the Avro schemas. Do not edit: change schemas/ and run
`python -m frontdesk.contracts.generate`.

One class per event type, matching its latest schema version; shared behaviour is in
`frontdesk.events._base`.
"""

from datetime import date
from decimal import Decimal
from enum import StrEnum
from typing import Annotated, ClassVar
from uuid import UUID

from pydantic import Field

from frontdesk.events._base import (
    Bool,
    Currency,
    Event,
    Float,
    Id,
    Int32,
    Int64,
    MetaBase,
    OrderRule,
    PropertyId,
    Record,
    TenantId,
    Text,
    UtcDatetime,
    quantizer,
)
from frontdesk.queues import QueueType
'''


@dataclass
class _Module:
    """Accumulates the generated classes, each named type once."""

    enums: dict[str, str] = field(default_factory=dict)
    records: dict[str, str] = field(default_factory=dict)
    events: dict[str, str] = field(default_factory=dict)
    decimals: dict[tuple[int, int], str] = field(default_factory=dict)
    full_names: dict[str, str] = field(default_factory=dict)


def render_models(registry: SchemaRegistry | None = None) -> str:
    """The source text of `_generated.py` for `registry` (default: the shipped schemas)."""
    registry = registry or default_registry()
    module = _Module()
    for event_type in registry.event_types:
        latest = registry.latest(event_type)
        body = _Renderer(module, latest.schema["namespace"]).record_body(latest.schema, event=True)
        module.events[event_type] = (
            f"class {event_type}(Event):\n"
            f"{_docstring(latest.schema)}\n"
            f'    event_type: ClassVar[str] = "{event_type}"\n'
            f"    queue: ClassVar[QueueType] = QueueType.{latest.queue.name}\n"
            f"    ordered: ClassVar[bool] = {latest.ordered}\n"
            f"    schema_version: ClassVar[int] = {latest.version}\n"
            f"{body}"
        )
    parts = [_HEADER]
    for (precision, scale), alias in sorted(module.decimals.items()):
        parts.append(
            f"{alias} = Annotated[\n"
            f"    Decimal, Field(max_digits={precision}, decimal_places={scale}), "
            f"quantizer({scale})\n]\n"
            f'"""Avro decimal({precision}, {scale}): at most {precision} digits, '
            f'{scale} after the point."""\n'
        )
    parts += [
        *(module.enums[n] for n in sorted(module.enums)),
        *module.records.values(),
        *module.events.values(),
    ]
    names = sorted(module.events)
    parts.append(
        "EVENT_TYPES: dict[str, type[Event]] = {\n"
        + "".join(f'    "{name}": {name},\n' for name in names)
        + '}\n"""Every event model by event type name."""\n'
    )
    exported = sorted([*module.enums, *module.records, *names, "EVENT_TYPES"])
    parts.append("__all__ = [\n" + "".join(f'    "{n}",\n' for n in exported) + "]\n")
    return "\n\n".join(part.rstrip("\n") + "\n" for part in parts).replace("\n\n\n\n", "\n\n\n")


def generate_models(registry: SchemaRegistry | None = None, path: Path = MODELS_PATH) -> bool:
    """Write the models to `path`; return whether the file changed."""
    text = render_models(registry)
    if path.exists() and path.read_text(encoding="utf-8") == text:
        return False
    path.write_text(text, encoding="utf-8")
    return True


def models_up_to_date(registry: SchemaRegistry | None = None, path: Path = MODELS_PATH) -> bool:
    """Whether `path` holds exactly what `render_models` would write."""
    return path.exists() and path.read_text(encoding="utf-8") == render_models(registry)


def _docstring(schema: dict[str, Any], indent: str = "    ") -> str:
    doc = str(schema.get("doc", "")).replace("\\", "\\\\").replace('"""', '\\"\\"\\"')
    return f'{indent}"""{doc}"""\n'


class _Renderer:
    def __init__(self, module: _Module, namespace: str | None) -> None:
        self.module = module
        self.namespace = namespace

    def record_body(self, schema: dict[str, Any], *, event: bool = False) -> str:
        lines: list[str] = []
        rules: list[str] = []
        for avro_field in schema["fields"]:
            name = avro_field["name"]
            if (event and name in _RESERVED) or name.startswith(("model_", "_")):
                raise SchemaError(f"{schema['name']}: field name {name!r} is reserved")
            annotation = self.annotation(avro_field["type"], avro_field)
            default = ""
            if "default" in avro_field:
                default = " = " + self.default(avro_field["type"], avro_field["default"])
            lines.append(f"    {name}: {annotation}{default}\n")
            lines.append(_docstring(avro_field))
            for key, strict in (("frontdesk.before", True), ("frontdesk.not_after", False)):
                if later := avro_field.get(key):
                    rules.append(f'("{name}", "{later}", {strict})')
        rule_line = ""
        if rules:
            rule_line = (
                f"    _order_rules: ClassVar[tuple[OrderRule, ...]] = ({', '.join(rules)},)\n"
            )
        return rule_line + "\n" + "".join(lines)

    def annotation(self, avro: Any, avro_field: dict[str, Any]) -> str:
        if isinstance(avro, list):
            branches = [b for b in avro if b != "null"]
            if len(branches) != 1 or len(avro) != 2:
                raise SchemaError(
                    f"field {avro_field['name']}: only [null, T] unions are supported"
                )
            return f"{self.annotation(branches[0], avro_field)} | None"
        if isinstance(avro, str):
            return self._named_or_primitive(avro, avro_field)
        kind = avro["type"]
        logical = avro.get("logicalType")
        if kind == "record":
            return self._record(avro)
        if kind == "enum":
            return self._enum(avro)
        if kind == "array":
            return f"tuple[{self.annotation(avro['items'], {'name': avro_field['name']})}, ...]"
        if kind == "map":
            return f"dict[str, {self.annotation(avro['values'], {'name': avro_field['name']})}]"
        if logical == "decimal" and kind == "bytes":
            key = (int(avro["precision"]), int(avro.get("scale", 0)))
            return self.module.decimals.setdefault(key, f"Decimal{key[0]}x{key[1]}")
        if logical == "date" and kind == "int":
            return "date"
        if logical == "timestamp-millis" and kind == "long":
            return "UtcDatetime"
        if logical == "uuid" and kind == "string":
            return "UUID"
        return self._named_or_primitive(kind, avro_field)

    def _named_or_primitive(self, name: str, avro_field: dict[str, Any]) -> str:
        simple = {"boolean": "Bool", "bytes": "bytes", "float": "Float", "double": "Float"}
        if name in simple:
            return simple[name]
        if name == "string":
            fmt = avro_field.get("frontdesk.format")
            if fmt is not None and fmt not in _FORMATS:
                raise SchemaError(f"field {avro_field['name']}: unknown frontdesk.format {fmt!r}")
            return _FORMATS.get(fmt, "str") if fmt else "str"
        if name in ("int", "long"):
            base = "Int32" if name == "int" else "Int64"
            if (minimum := avro_field.get("frontdesk.min")) is not None:
                return f"Annotated[{base}, Field(ge={int(minimum)})]"
            return base
        full = name if "." in name else f"{self.namespace}.{name}"
        if full in self.module.full_names:
            return self.module.full_names[full]
        raise SchemaError(f"field {avro_field['name']}: cannot map Avro type {name!r}")

    def _claim(self, avro: dict[str, Any]) -> str:
        name = avro["name"]
        namespace = avro.get("namespace", self.namespace)
        full = name if "." in name else f"{namespace}.{name}"
        simple = full.rpartition(".")[2]
        for known_full, known_simple in self.module.full_names.items():
            if known_simple == simple and known_full != full:
                raise SchemaError(f"types {known_full} and {full} would share class {simple}")
        self.module.full_names[full] = simple
        return simple

    def _enum(self, avro: dict[str, Any]) -> str:
        name = self._claim(avro)
        members = "".join(f'    {s.upper()} = "{s}"\n' for s in avro["symbols"])
        doc = str(avro.get("doc", ""))
        if "default" in avro:
            doc += f" Symbols unknown to this reader read as {avro['default']}."
        text = f"class {name}(StrEnum):\n{_docstring({'doc': doc})}\n{members}"
        if self.module.enums.setdefault(name, text) != text:
            raise SchemaError(f"enum {name} differs between event types; share it in common/")
        return name

    def _record(self, avro: dict[str, Any]) -> str:
        name = self._claim(avro)
        namespace = avro.get("namespace", self.namespace)
        body = _Renderer(self.module, namespace).record_body(avro)
        base = "MetaBase" if name == "EventMeta" else "Record"
        text = f"class {name}({base}):\n{_docstring(avro)}{body}"
        if self.module.records.setdefault(name, text) != text:
            raise SchemaError(f"record {name} differs between event types; share it in common/")
        return name

    def default(self, avro: Any, value: Any) -> str:
        if value is None:
            return "None"
        if isinstance(value, bool | int):
            return repr(value)
        if isinstance(value, list):
            return "()" if not value else repr(tuple(value))
        if isinstance(value, dict):
            return (
                "Field(default_factory=dict)"
                if not value
                else f"Field(default_factory=lambda: {value!r})"
            )
        if isinstance(avro, dict) and avro.get("type") == "enum":
            return f"{self._enum(avro)}.{str(value).upper()}"
        if isinstance(avro, str) and avro in self.module.full_names.values():
            return f"{avro}.{str(value).upper()}"
        return repr(value)
