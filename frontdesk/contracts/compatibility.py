"""Proof that every schema change is safe to deploy, run in the build.

Producers and consumers upgrade at different times and old events stay in topics (retry
tiers, DLQ, replay), so each new version must read every older one (backward), and unless
it declares `"frontdesk.compatibility": "backward"`, every older version must read it too
(forward: consumers need not upgrade first). Two independent checks run for every pair:
a structural comparison following the Avro resolution rules, which names the field at
fault, and real resolution by fastavro of sample data written with the writer schema,
which guards against a gap in the rules.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass
from io import BytesIO
from typing import Any

from fastavro import schemaless_reader, schemaless_writer

from frontdesk.contracts.registry import (
    PRIMITIVES,
    Compatibility,
    SchemaRegistry,
    SchemaVersion,
    default_registry,
    full_name,
)
from frontdesk.contracts.samples import sample_event
from frontdesk.errors import SchemaCompatibilityError

_PROMOTIONS = {
    "int": {"int", "long", "float", "double"},
    "long": {"long", "float", "double"},
    "float": {"float", "double"},
    "string": {"string", "bytes"},
    "bytes": {"bytes", "string"},
}
_SAMPLE_NULL_RATES = (0.0, 1.0, 0.5, 0.5)


@dataclass(frozen=True, slots=True)
class CompatibilityIssue:
    """One reason why `reader_version` cannot read data written by `writer_version`."""

    event_type: str
    reader_version: int
    writer_version: int
    field: str
    """Dotted path of the field at fault, e.g. `meta.causation_id`; empty for the record."""
    problem: str

    def __str__(self) -> str:
        kind = "backward" if self.reader_version > self.writer_version else "forward"
        where = f"field {self.field!r}" if self.field else "record"
        return (
            f"{self.event_type}: v{self.reader_version} cannot read "
            f"v{self.writer_version} data ({kind}): {where} {self.problem}"
        )


def find_incompatibilities(registry: SchemaRegistry | None = None) -> list[CompatibilityIssue]:
    """Every compatibility promise broken among the versions in `registry`."""
    registry = registry or default_registry()
    issues: list[CompatibilityIssue] = []
    for event_type in registry.event_types:
        versions = registry.versions(event_type)
        for index, newer in enumerate(versions):
            for older in versions[:index]:
                issues += pair_issues(reader=newer, writer=older)
                if newer.compatibility is Compatibility.FULL:
                    issues += pair_issues(reader=older, writer=newer)
    return issues


def check_compatibility(registry: SchemaRegistry | None = None) -> None:
    """Raise `SchemaCompatibilityError` listing every broken promise, if any."""
    if issues := find_incompatibilities(registry):
        raise SchemaCompatibilityError([str(issue) for issue in issues])


def pair_issues(*, reader: SchemaVersion, writer: SchemaVersion) -> list[CompatibilityIssue]:
    """Why `reader` cannot read `writer`'s data: structural reasons, else resolution failures."""

    def issue(field: str, problem: str) -> CompatibilityIssue:
        return CompatibilityIssue(reader.event_type, reader.version, writer.version, field, problem)

    resolver = _Resolver(_index(reader.schema), _index(writer.schema))
    found = [issue(f, p) for f, p in resolver.check(reader.schema, writer.schema, "", None, None)]
    if found:
        return found
    rng = random.Random(f"{writer.event_type}/{writer.version}")
    for null_rate in _SAMPLE_NULL_RATES:
        out = BytesIO()
        schemaless_writer(out, writer.parsed, sample_event(writer, rng, null_rate=null_rate))
        out.seek(0)
        try:
            schemaless_reader(out, writer.parsed, reader.parsed)
        except Exception as exc:  # any failure to resolve is the finding
            return [issue("", f"fails Avro schema resolution: {exc}")]
    return []


def _index(schema: Any) -> dict[str, Any]:
    """Named types of an expanded schema by full name."""
    named: dict[str, Any] = {}

    def walk(node: Any, namespace: str | None) -> None:
        if isinstance(node, list):
            for branch in node:
                walk(branch, namespace)
        elif isinstance(node, dict):
            kind = node["type"]
            if kind in ("record", "enum", "fixed"):
                name = full_name(node["name"], node.get("namespace", namespace))
                named[name] = node
                namespace = name.rpartition(".")[0] or None
                for field in node.get("fields", ()):
                    walk(field["type"], namespace)
            elif kind == "array":
                walk(node["items"], namespace)
            elif kind == "map":
                walk(node["values"], namespace)

    walk(schema, None)
    return named


def _kind(schema: Any) -> str:
    if isinstance(schema, list):
        return "union"
    return str(schema if isinstance(schema, str) else schema["type"])


def _describe(schema: Any) -> str:
    if isinstance(schema, list):
        return "[" + ", ".join(_describe(b) for b in schema) + "]"
    if isinstance(schema, dict):
        if logical := schema.get("logicalType"):
            if logical == "decimal":
                return f"decimal({schema.get('precision')}, {schema.get('scale', 0)})"
            return f"{schema['type']}/{logical}"
        if "name" in schema:
            return f"{schema['type']} {schema['name']}"
    return _kind(schema)


class _Resolver:
    """The Avro specification's schema resolution rules, reporting what fails."""

    def __init__(self, reader_names: dict[str, Any], writer_names: dict[str, Any]) -> None:
        self.reader_names = reader_names
        self.writer_names = writer_names

    def deref(self, schema: Any, names: dict[str, Any], namespace: str | None) -> Any:
        if isinstance(schema, str) and schema not in PRIMITIVES:
            return names.get(full_name(schema, namespace), names.get(schema, schema))
        return schema

    def matches(self, reader: Any, writer: Any) -> bool:
        """Whether the two (dereferenced, non-union) types resolve at the top level."""
        rk, wk = _kind(reader), _kind(writer)
        if wk in ("record", "enum", "fixed"):
            names = {reader.get("name", "").rpartition(".")[2], *reader.get("aliases", ())}
            return rk == wk and writer["name"].rpartition(".")[2] in names
        return rk in _PROMOTIONS.get(wk, {wk})

    def check(
        self, reader: Any, writer: Any, path: str, r_ns: str | None, w_ns: str | None
    ) -> Iterator[tuple[str, str]]:
        reader = self.deref(reader, self.reader_names, r_ns)
        writer = self.deref(writer, self.writer_names, w_ns)
        if isinstance(writer, list):
            for branch in writer:
                yield from self.check(reader, branch, path, r_ns, w_ns)
            return
        if isinstance(reader, list):
            branches = [self.deref(b, self.reader_names, r_ns) for b in reader]
            exact = [b for b in branches if _kind(b) == _kind(writer)]
            match = next((b for b in exact + branches if self.matches(b, writer)), None)
            if match is None:
                yield (
                    path,
                    f"has writer type {_describe(writer)} not in reader union {_describe(reader)}",
                )
            else:
                yield from self.check(match, writer, path, r_ns, w_ns)
            return
        if not self.matches(reader, writer):
            yield path, f"changed type from {_describe(writer)} to {_describe(reader)}"
            return
        yield from self._logical(reader, writer, path)
        kind = _kind(reader)
        if kind == "record":
            yield from self._record(reader, writer, path, r_ns, w_ns)
        elif kind == "enum":
            missing = [s for s in writer["symbols"] if s not in reader["symbols"]]
            if missing and "default" not in reader:
                yield path, f"lost symbols {missing} and the reader enum has no default"
        elif kind == "fixed" and reader["size"] != writer["size"]:
            yield path, f"changed fixed size from {writer['size']} to {reader['size']}"
        elif kind == "array":
            yield from self.check(reader["items"], writer["items"], f"{path}[]", r_ns, w_ns)
        elif kind == "map":
            yield from self.check(reader["values"], writer["values"], f"{path}{{}}", r_ns, w_ns)

    def _logical(self, reader: Any, writer: Any, path: str) -> Iterator[tuple[str, str]]:
        r_logical = reader.get("logicalType") if isinstance(reader, dict) else None
        w_logical = writer.get("logicalType") if isinstance(writer, dict) else None
        if r_logical != w_logical or (
            r_logical == "decimal"
            and (reader.get("precision"), reader.get("scale", 0))
            != (writer.get("precision"), writer.get("scale", 0))
        ):
            yield path, f"changed type from {_describe(writer)} to {_describe(reader)}"

    def _record(
        self, reader: Any, writer: Any, path: str, r_ns: str | None, w_ns: str | None
    ) -> Iterator[tuple[str, str]]:
        r_name = full_name(reader["name"], reader.get("namespace", r_ns))
        w_name = full_name(writer["name"], writer.get("namespace", w_ns))
        r_inner, w_inner = r_name.rpartition(".")[0] or None, w_name.rpartition(".")[0] or None
        written = {f["name"]: f for f in writer["fields"]}
        for field in reader["fields"]:
            field_path = f"{path}.{field['name']}" if path else field["name"]
            source = next(
                (written[n] for n in (field["name"], *field.get("aliases", ())) if n in written),
                None,
            )
            if source is not None:
                yield from self.check(field["type"], source["type"], field_path, r_inner, w_inner)
            elif "default" not in field:
                yield field_path, "is missing from the writer and has no default"
