"""Every shipped schema version, parsed once and addressable by its fingerprint.

Consumers must read events written by any producer that ever ran, so no version is ever
dropped: the registry loads them all and maps the 8 fingerprint bytes of the single-object
encoding to the version that wrote them. Shared types (the `EventMeta` envelope, channel
enums) live once in `schemas/common/` and are expanded into each event at load time; the
fingerprint is taken over that expanded form, which is what a reader must agree on.
"""

from __future__ import annotations

import copy
import functools
import json
import os
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any

from fastavro import parse_schema
from fastavro.schema import fingerprint, to_parsing_canonical_form

from frontdesk.errors import SchemaError
from frontdesk.queues import QueueType

SINGLE_OBJECT_MAGIC = b"\xc3\x01"
"""First two bytes of every Avro single-object encoded message."""

ENV_SCHEMAS_DIR = "FRONTDESK_SCHEMAS_DIR"
PRIMITIVES = frozenset({"null", "boolean", "int", "long", "float", "double", "bytes", "string"})
_NAMED = frozenset({"record", "error", "enum", "fixed"})
_FILE = re.compile(r"^(?P<name>[A-Za-z_][A-Za-z0-9_]*)\.v(?P<version>[1-9][0-9]*)\.avsc$")


SharedTypes = Mapping[str, Mapping[int, dict[str, Any]]]
"""Shared named types: full name -> version -> schema JSON."""


class Compatibility(StrEnum):
    """What a new version promises about the versions before it."""

    FULL = "full"
    """New readers read old data and old readers read new data (the default)."""
    BACKWARD = "backward"
    """Only new readers read old data: deploy every consumer before any producer."""


@dataclass(frozen=True, slots=True, eq=False)
class SchemaVersion:
    """One version of one event type, ready to read and write."""

    event_type: str
    version: int
    schema: dict[str, Any]
    """The fully expanded schema JSON (shared types inlined)."""
    parsed: Any
    """The fastavro-parsed schema: parse once, use on every call."""
    canonical_form: str
    fingerprint: bytes
    """CRC-64-AVRO of the canonical form, 8 bytes little-endian, exactly as on the wire."""
    header: bytes
    """`C3 01` + fingerprint: the prefix of every message this version writes."""
    queue: QueueType
    ordered: bool
    compatibility: Compatibility
    path: Path

    @property
    def fingerprint_hex(self) -> str:
        return self.fingerprint.hex()

    def __repr__(self) -> str:
        return f"<SchemaVersion {self.event_type} v{self.version} {self.fingerprint_hex}>"


def schemas_dir() -> Path:
    """Where the schemas are: `$FRONTDESK_SCHEMAS_DIR`, the wheel's copy, or the repo's."""
    if env := os.environ.get(ENV_SCHEMAS_DIR):
        return Path(env)
    package = Path(__file__).resolve().parents[1]
    bundled = package / "_schemas"
    if bundled.is_dir():
        return bundled
    return package.parent / "schemas"


class SchemaRegistry:
    """All versions of all event types under one schemas directory."""

    def __init__(self, root: Path, versions: list[SchemaVersion], shared: SharedTypes) -> None:
        self.root = root
        self.shared = shared
        self._by_type: dict[str, tuple[SchemaVersion, ...]] = {}
        self._by_fingerprint: dict[bytes, SchemaVersion] = {}
        for sv in sorted(versions, key=lambda v: (v.event_type, v.version)):
            self._by_type[sv.event_type] = (*self._by_type.get(sv.event_type, ()), sv)
            if clash := self._by_fingerprint.get(sv.fingerprint):
                raise SchemaError(
                    f"{sv.event_type} v{sv.version} has the same canonical form as "
                    f"{clash.event_type} v{clash.version}; doc or default-only changes are "
                    "made in place, not as a new version"
                )
            self._by_fingerprint[sv.fingerprint] = sv
        for event_type, svs in self._by_type.items():
            numbers = [sv.version for sv in svs]
            if numbers != list(range(1, len(svs) + 1)):
                raise SchemaError(f"{event_type}: versions must be 1..n without gaps: {numbers}")

    @classmethod
    def load(cls, root: Path | None = None) -> SchemaRegistry:
        """Read and parse every `events/*.vN.avsc` under `root` (default: `schemas_dir()`)."""
        root = root if root is not None else schemas_dir()
        if not (root / "events").is_dir():
            raise SchemaError(f"no events/ directory under schemas dir {root}")
        shared = _load_shared(root / "common")
        versions = [_load_version(path, shared) for path in sorted((root / "events").iterdir())]
        return cls(root, versions, shared)

    @property
    def event_types(self) -> tuple[str, ...]:
        return tuple(sorted(self._by_type))

    def versions(self, event_type: str) -> tuple[SchemaVersion, ...]:
        """Every version of `event_type`, oldest first."""
        try:
            return self._by_type[event_type]
        except KeyError:
            raise SchemaError(f"unknown event type {event_type!r}") from None

    def latest(self, event_type: str) -> SchemaVersion:
        """The current version: what producers write and consumers read into."""
        return self.versions(event_type)[-1]

    def get(self, event_type: str, version: int) -> SchemaVersion:
        for sv in self.versions(event_type):
            if sv.version == version:
                return sv
        raise SchemaError(f"{event_type} has no version {version}")

    def by_fingerprint(self, fingerprint: bytes) -> SchemaVersion | None:
        """The version whose 8 wire fingerprint bytes these are, if shipped."""
        return self._by_fingerprint.get(fingerprint)

    def __iter__(self) -> Iterator[SchemaVersion]:
        for event_type in self.event_types:
            yield from self._by_type[event_type]


@functools.cache
def default_registry() -> SchemaRegistry:
    """The registry of `schemas_dir()`, loaded once per process."""
    return SchemaRegistry.load()


def _read_json(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise SchemaError(f"{path}: cannot read schema: {exc}") from exc
    if not isinstance(data, dict):
        raise SchemaError(f"{path}: a schema file must hold one named type")
    return data


def _split_file_name(path: Path) -> tuple[str, int]:
    match = _FILE.match(path.name)
    if not match:
        raise SchemaError(f"{path}: schema files are named <Name>.v<N>.avsc")
    return match["name"], int(match["version"])


def _load_shared(directory: Path) -> SharedTypes:
    shared: dict[str, dict[int, dict[str, Any]]] = {}
    if not directory.is_dir():
        return shared
    for path in sorted(directory.iterdir()):
        name, version = _split_file_name(path)
        data = _read_json(path)
        if data.get("name") != name or not data.get("namespace"):
            raise SchemaError(f"{path}: needs name {name!r} and an explicit namespace")
        shared.setdefault(f"{data['namespace']}.{name}", {})[version] = data
    return shared


def _load_version(path: Path, shared: SharedTypes) -> SchemaVersion:
    name, version = _split_file_name(path)
    data = _read_json(path)
    where = f"{name} v{version}"
    if data.get("type") != "record" or data.get("name") != name:
        raise SchemaError(f"{path}: must be a record named {name!r}")
    try:
        queue = QueueType(str(data.get("frontdesk.queue")))
        compatibility = Compatibility(data.get("frontdesk.compatibility", "full"))
    except ValueError as exc:
        raise SchemaError(f"{where}: {exc}") from exc
    ordered = data.get("frontdesk.ordered")
    if not isinstance(ordered, bool):
        raise SchemaError(f"{where}: frontdesk.ordered must be true or false")
    expanded = _Expander(shared, data.get("frontdesk.refs", {}), where).expand(data, None)
    try:
        parsed = parse_schema(copy.deepcopy(expanded))
        canonical = to_parsing_canonical_form(expanded)
    except Exception as exc:  # fastavro raises several unrelated types for bad schemas
        raise SchemaError(f"{where}: invalid Avro schema: {exc}") from exc
    fp = bytes.fromhex(fingerprint(canonical, "CRC-64-AVRO"))
    return SchemaVersion(
        event_type=name,
        version=version,
        schema=expanded,
        parsed=parsed,
        canonical_form=canonical,
        fingerprint=fp,
        header=SINGLE_OBJECT_MAGIC + fp,
        queue=queue,
        ordered=ordered,
        compatibility=compatibility,
        path=path,
    )


def full_name(name: str, namespace: str | None) -> str:
    """Avro full name of `name` as written inside `namespace`."""
    if "." in name or not namespace:
        return name
    return f"{namespace}.{name}"


class _Expander:
    """Inlines the first reference to each shared type; later ones stay as names."""

    def __init__(self, shared: SharedTypes, pins: Mapping[str, int], where: str) -> None:
        self.shared = shared
        self.pins = pins
        self.where = where
        self.defined: set[str] = set()

    def expand(self, schema: Any, namespace: str | None) -> Any:
        if isinstance(schema, list):
            return [self.expand(branch, namespace) for branch in schema]
        if isinstance(schema, str):
            return self._reference(schema, namespace)
        if not isinstance(schema, dict) or "type" not in schema:
            raise SchemaError(f"{self.where}: not an Avro type: {schema!r}")
        out = dict(schema)
        kind = schema["type"]
        if kind in _NAMED:
            name = full_name(schema["name"], schema.get("namespace", namespace))
            if name in self.defined:
                raise SchemaError(f"{self.where}: type {name} defined twice")
            self.defined.add(name)
            inner = name.rpartition(".")[0] or None
            if kind in ("record", "error"):
                out["fields"] = [
                    {**field, "type": self.expand(field["type"], inner)}
                    for field in schema["fields"]
                ]
        elif kind == "array":
            out["items"] = self.expand(schema["items"], namespace)
        elif kind == "map":
            out["values"] = self.expand(schema["values"], namespace)
        else:
            out["type"] = self.expand(kind, namespace)
        return out

    def _reference(self, name: str, namespace: str | None) -> Any:
        if name in PRIMITIVES:
            return name
        for candidate in (full_name(name, namespace), name):
            if candidate in self.defined:
                return candidate
            if candidate in self.shared:
                definition = dict(self._pick(candidate))
                definition["namespace"] = candidate.rpartition(".")[0]
                return self.expand(definition, namespace)
        raise SchemaError(f"{self.where}: unknown type {name!r}")

    def _pick(self, name: str) -> dict[str, Any]:
        versions = self.shared[name]
        if name in self.pins:
            try:
                return versions[self.pins[name]]
            except KeyError:
                raise SchemaError(
                    f"{self.where}: {name} has no version {self.pins[name]}"
                ) from None
        if len(versions) > 1:
            raise SchemaError(
                f"{self.where}: {name} has versions {sorted(versions)}; pin one with "
                f'"frontdesk.refs": {{"{name}": N}}'
            )
        return next(iter(versions.values()))
