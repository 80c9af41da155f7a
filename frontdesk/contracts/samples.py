"""Plausible random data for any schema: fuel for compatibility proofs and load generators.

The compatibility check writes samples with an old schema and reads them with a new one,
which catches what a rule-based comparison might miss; the traffic simulator needs valid
events of every type without knowing their fields. Both want values that pass the models'
rules (formats, minimums, date order), which is why this reads the `frontdesk.*` attributes.
"""

from __future__ import annotations

import random
import uuid
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

from frontdesk.contracts.registry import PRIMITIVES, SchemaVersion, full_name

_CURRENCIES = ("EUR", "USD", "GBP", "CHF", "JPY")
_DAY0 = date(2024, 1, 1)
_T0 = datetime(2024, 1, 1, tzinfo=UTC)


def sample_event(version: SchemaVersion, rng: random.Random, *, null_rate: float = 0.5) -> Any:
    """A datum of `version`'s schema (dicts, as fastavro writes) whose meta names its type."""
    datum = sample_datum(version.schema, rng, null_rate=null_rate)
    if isinstance(datum.get("meta"), dict):
        datum["meta"]["event_type"] = version.event_type
    return datum


def sample_datum(schema: Any, rng: random.Random, *, null_rate: float = 0.5) -> Any:
    """A datum of the expanded `schema`; optional fields are null with probability `null_rate`."""
    return _Sampler(rng, null_rate).value(schema, {"name": "value"}, None)


class _Sampler:
    def __init__(self, rng: random.Random, null_rate: float) -> None:
        self.rng = rng
        self.null_rate = null_rate
        self.named: dict[str, dict[str, Any]] = {}

    def value(self, schema: Any, field: dict[str, Any], namespace: str | None) -> Any:
        rng = self.rng
        if isinstance(schema, list):
            branches = [b for b in schema if b != "null"]
            if "null" in schema and (not branches or rng.random() < self.null_rate):
                return None
            return self.value(rng.choice(branches), field, namespace)
        if isinstance(schema, str) and schema not in PRIMITIVES:
            return self.value(self.named[full_name(schema, namespace)], field, namespace)
        kind = schema if isinstance(schema, str) else schema["type"]
        logical = None if isinstance(schema, str) else schema.get("logicalType")
        if kind in ("record", "enum", "fixed"):
            name = full_name(schema["name"], schema.get("namespace", namespace))
            self.named[name] = schema
            namespace = name.rpartition(".")[0] or None
        if kind == "record":
            return self.record(schema, namespace)
        if kind == "enum":
            return rng.choice(schema["symbols"])
        if kind == "fixed":
            return rng.randbytes(schema["size"])
        if kind == "array":
            return [self.value(schema["items"], field, namespace) for _ in range(rng.randint(0, 3))]
        if kind == "map":
            return {
                f"k{i}": self.value(schema["values"], field, namespace)
                for i in range(rng.randint(0, 3))
            }
        return self.primitive(kind, logical, schema, field)

    def record(self, schema: dict[str, Any], namespace: str | None) -> dict[str, Any]:
        datum = {f["name"]: self.value(f["type"], f, namespace) for f in schema["fields"]}
        for f in schema["fields"]:
            for key, strict in (("frontdesk.before", True), ("frontdesk.not_after", False)):
                later = f.get(key)
                if later and datum.get(f["name"]) is not None and datum.get(later) is not None:
                    step = self.rng.randint(1 if strict else 0, 14)
                    datum[later] = datum[f["name"]] + timedelta(days=step)
        return datum

    def primitive(self, kind: str, logical: Any, schema: Any, field: dict[str, Any]) -> Any:
        rng = self.rng
        minimum = field.get("frontdesk.min")
        match kind, logical:
            case "int", "date":
                return _DAY0 + timedelta(days=rng.randint(0, 730))
            case "long", "timestamp-millis":
                return _T0 + timedelta(milliseconds=rng.randint(0, 2 * 365 * 86_400_000))
            case "bytes", "decimal":
                digits = min(int(schema["precision"]), 9)
                return Decimal(rng.randint(0, 10**digits - 1)).scaleb(-int(schema.get("scale", 0)))
            case "string", "uuid":
                return uuid.UUID(int=rng.getrandbits(128), version=4)
            case (("int" | "long"), _):
                low = int(minimum) if minimum is not None else -1000
                return rng.randint(low, low + 1000)
            case "string", _:
                return self.string(field)
            case "boolean", _:
                return rng.random() < 0.5
            case (("float" | "double"), _):
                return rng.uniform(-1000, 1000)
            case "bytes", _:
                return rng.randbytes(rng.randint(0, 16))
            case "null", _:
                return None
        raise ValueError(f"cannot sample Avro type {kind!r}")

    def string(self, field: dict[str, Any]) -> str:
        n = self.rng.randint(1, 999)
        match field.get("frontdesk.format"):
            case "tenant_id":
                return f"tenant-{n % 20}"
            case "property_id":
                return f"property-{n % 50}"
            case "currency":
                return self.rng.choice(_CURRENCIES)
            case "id":
                return f"{field['name'].removesuffix('_id')}-{n}"
            case _:
                return f"{field['name']} {n}"
