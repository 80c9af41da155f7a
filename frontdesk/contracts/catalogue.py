"""The event catalogue in `docs/events.md`, rendered from the schemas.

PMS developers and operators look events up by name; generating the page from the schemas
(and testing that the committed page is current) means it can never describe an event
differently from what is on the wire.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from frontdesk.contracts.registry import SchemaRegistry, SchemaVersion, default_registry

CATALOGUE_PATH = Path(__file__).resolve().parents[2] / "docs" / "events.md"
"""The committed catalogue, in a source checkout."""


_PROMISE = [
    "## The compatibility promise, as tested",
    "",
    "- **New consumers read old data.** A consumer decodes every version ever shipped under "
    "`schemas/` into its current model (`tests/unit/test_codec.py`, "
    "`tests/integration/test_producer_schema_versions.py`); `frontdesk schemas check` proves "
    "each version backward compatible over sample data.",
    "- **Old consumers read new data (compatibility `full`).** A consumer one version behind "
    "decodes what the newest producer writes, with the new fields dropped, for every "
    "(v_n writer, v_n-1 reader) pair of every evolved type (`tests/unit/test_old_consumer.py`), "
    "and a worker built with only BookingCreated v1 handles a newer producer's v2 events "
    "through the broker with no dead letter "
    "(`tests/integration/test_old_consumer_reads_new_versions.py`). It does so because "
    "producers publish each writer schema to the compacted topic `<ns.>frontdesk.schemas` "
    "(key: fingerprint hex; value: the expanded schema JSON) and wait for it to be stored "
    "before their first event of that fingerprint, and workers look an unknown fingerprint "
    "up there and resolve it into their own version of the same record name. A record whose "
    "schema's canonical form does not hash to its key is ignored. A fingerprint published "
    "nowhere is dead-lettered as `unknown_schema`. `frontdesk schemas publish` publishes every "
    "version (a second run writes nothing); run it at each release before producers roll: "
    "tenant principals may read the topic but not write it, so their producers rely on it.",
    "- **Strict decoding, as the Java reference implementation 1.12.** A negative or "
    "out-of-range enum or union index, a boolean byte other than 0/1, a varint over 5 bytes "
    "(int) or 10 bytes (long) or out of range, a UUID string not in the 36-character "
    "8-4-4-4-12 hex form (either case; Java's shortened forms are refused), and a zero-length "
    "decimal are `malformed`, naming the field (`tests/unit/test_codec_strict.py`, with a "
    "Hypothesis suite of mutated messages of every type). Java reads a boolean byte 2 as "
    "false; we refuse it.",
    "- **Bounded cost.** A decimal may have at most the bytes its precision needs; a string or "
    "bytes value at most `frontdesk.max_length` bytes (default 65,536) and an array or map "
    "at most `frontdesk.max_items` items (default 10,000), set on the field. Anything over is "
    "`malformed`, refused before it is read (`frontdesk bench decode` prints the worst 1 MB "
    "record of each kind against a typical one).",
    "- **Writing.** An int outside 32 bits or a long outside 64 bits is refused, not "
    "written. A negative decimal is written in minimal two's complement as Java writes it "
    "(-1.28 at scale 2 is `80`; fastavro writes `ff80`; both read the same). Map entries are "
    "written in the model's insertion order, which may differ from Java's (a map has no "
    "order in Avro).",
    "- **Checked against Java.** Each test run holds the project to Apache Avro 1.12.0 for "
    "Java in one JVM (`tests/integration/test_avro_java_crosscheck.py`): Java computes the "
    "same fingerprints; its `BinaryMessageDecoder` reads the project's messages of every type "
    "and version, resolved into the current version, to the same values (dates, timestamps, "
    "decimals and UUIDs compared in one normal form); the project reads what Java's "
    "`BinaryMessageEncoder` writes to the same events, byte for byte the project's own "
    "encoding for current versions (map order aside); and every strictness mutation (F1-F6, "
    "and a seeded set of random ones) that Java refuses, the project refuses. The one "
    "intended difference is a boolean byte other than 0/1: Java reads it as false, the "
    "project refuses it, because no writer produces it and guessing would hide corruption.",
    "- **Confluent Schema Registry users** can mirror the schemas: for each record of "
    "`<ns.>frontdesk.schemas` (or each `schemas/events/*.avsc` expanded, as `frontdesk "
    "schemas list` shows with its fingerprint), `POST /subjects/<record full name>-value/"
    'versions` with `{"schema": <value>}`. Confluent\'s wire format (magic 0 + 4-byte id) '
    "differs from single-object encoding, so a Confluent-framed consumer needs the bytes "
    "re-framed; the schemas, fingerprints and resolution rules are the same.",
]


def render_catalogue(registry: SchemaRegistry | None = None) -> str:
    """The Markdown catalogue of every event type in `registry`."""
    registry = registry or default_registry()
    out = [
        "# Event catalogue",
        "",
        "Generated from `schemas/` by `frontdesk schemas catalogue` "
        "(`frontdesk.contracts.write_catalogue`); do not edit.",
        "",
        "Every event starts with `meta` (the `EventMeta` envelope, below). Fingerprints are "
        "the 8 bytes after `C3 01` in the single-object encoding, in hex. *Ordered* event "
        "types are processed strictly in order per key (`<tenant_id>/<property_id>`), also "
        "across retries.",
        "",
        "Ordering rule: an event type is ordered when a later event of the same property "
        "depends on an earlier one or the last write must win (booking lifecycle, check-in/out, "
        "payments, a housekeeping task's lifecycle, availability, rates, capacity, a guest "
        "conversation); it is unordered when each event stands alone (maintenance requests, "
        "notifications, channel sync requests, channel acknowledgements), so a retrying one "
        "never holds up its property.",
        "",
        *_PROMISE,
        "",
        "| Event | Queue | Ordered | Current version |",
        "|---|---|---|---|",
    ]
    for event_type in registry.event_types:
        latest = registry.latest(event_type)
        out.append(
            f"| [{event_type}](#{event_type.lower()}) | {latest.queue} | "
            f"{'yes' if latest.ordered else 'no'} | v{latest.version} |"
        )
    for event_type in registry.event_types:
        out += ["", *_event_section(registry.versions(event_type))]
    meta = registry.latest(registry.event_types[0]).schema["fields"][0]["type"]
    if isinstance(meta, dict):
        out += ["", "## EventMeta", "", str(meta.get("doc", "")), "", *_fields_table(meta)]
    return "\n".join(out) + "\n"


def write_catalogue(registry: SchemaRegistry | None = None, path: Path = CATALOGUE_PATH) -> bool:
    """Write the catalogue to `path`; return whether the file changed."""
    text = render_catalogue(registry)
    if path.exists() and path.read_text(encoding="utf-8") == text:
        return False
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return True


def catalogue_up_to_date(
    registry: SchemaRegistry | None = None, path: Path = CATALOGUE_PATH
) -> bool:
    """Whether `path` holds exactly what `render_catalogue` would write."""
    return path.exists() and path.read_text(encoding="utf-8") == render_catalogue(registry)


def _event_section(versions: tuple[SchemaVersion, ...]) -> list[str]:
    latest = versions[-1]
    lines = [
        f"## {latest.event_type}",
        "",
        str(latest.schema.get("doc", "")),
        "",
        f"- Queue: `{latest.queue}`; ordered: {'yes' if latest.ordered else 'no'}; "
        f"compatibility: {latest.compatibility}",
        "- Versions: " + ", ".join(f"v{sv.version} `{sv.fingerprint_hex}`" for sv in versions),
        "",
    ]
    fields = [f for f in latest.schema["fields"] if f["name"] != "meta"]
    return lines + _fields_table({"fields": fields}, versions)


def _fields_table(record: dict[str, Any], versions: tuple[SchemaVersion, ...] = ()) -> list[str]:
    lines = ["| Field | Type | Since | Description |", "|---|---|---|---|"]
    for field in record["fields"]:
        since = next(
            (
                f"v{sv.version}"
                for sv in versions
                if any(f["name"] == field["name"] for f in sv.schema["fields"])
            ),
            "",
        )
        doc = str(field.get("doc", "")).replace("|", "\\|")
        lines.append(f"| `{field['name']}` | {_type_name(field['type'])} | {since} | {doc} |")
    return lines


def _type_name(schema: Any) -> str:
    if isinstance(schema, list):
        branches = [_type_name(b) for b in schema if b != "null"]
        return " \\| ".join(branches) + (" (optional)" if "null" in schema else "")
    if isinstance(schema, str):
        return f"`{schema.rpartition('.')[2]}`"
    kind = schema["type"]
    logical = schema.get("logicalType")
    if logical == "decimal":
        return f"decimal({schema['precision']}, {schema.get('scale', 0)})"
    if logical:
        return f"`{logical}`"
    if kind == "enum":
        symbols = ", ".join(f"`{s}`" for s in schema["symbols"])
        return f"enum {schema['name']}: {symbols} (default `{schema.get('default')}`)"
    if kind == "array":
        return f"array of {_type_name(schema['items'])}"
    if kind == "map":
        return f"map of {_type_name(schema['values'])}"
    if kind == "record":
        return f"`{schema['name']}`"
    return f"`{kind}`"
