"""The project's Avro bytes against the Java reference implementation (Apache Avro 1.12.0).

One JVM launch per run (tests/support/java.py, tests/java/AvroCrossCheck.java) answers:

- Java's fingerprint of every shipped schema version, which must be the project's;
- Java's `BinaryMessageDecoder`, with a `SchemaStore` of every version, reading a corpus of
  the project's messages (every event type, every version, sample data and edge values),
  resolved into the current version as the project's codec resolves them: compared field by
  field, with dates, timestamps, decimals and UUIDs normalised to one text form;
- Java's `BinaryMessageEncoder` writing the same data, which the project's codec must read
  to the same events (and, for current versions, to the very bytes the project writes, map
  key order aside: Avro leaves it free and Java's is a hash order);
- the strictness mutations F1-F6 of issue 10 and a seeded set of random ones: every message
  Java refuses, the project refuses too. F3 (a boolean byte other than 0 or 1) is the one
  intended difference: Java reads it as false, the project refuses it as malformed, because
  a byte that is neither is not a boolean anyone wrote.

No broker is needed; it lives here because it needs the JDK and Maven, like the broker, and
fails when they are missing.
"""

from __future__ import annotations

import enum
import json
import random
import uuid
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from io import StringIO
from typing import Any

import pytest
from fastavro import json_writer

from frontdesk.codec import default_codec
from frontdesk.contracts import default_registry
from frontdesk.contracts.registry import SchemaVersion
from frontdesk.contracts.samples import sample_event
from frontdesk.contracts.schemas_topic import record_of
from frontdesk.errors import DecodeError, MalformedEventError
from frontdesk.events import Event
from tests.support.events import booking
from tests.support.java import run_checker
from tests.support.wire import (
    field_spans,
    message,
    mutable_kind,
    mutate,
    overlong,
    record_spans,
    replace,
    varint,
)

REGISTRY = default_registry()
CODEC = default_codec()
SAMPLES_PER_VERSION = 6
RANDOM_MUTATIONS = 400
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _key(version: SchemaVersion) -> str:
    return f"{version.event_type}.v{version.version}"


def _samples() -> dict[str, tuple[SchemaVersion, dict[str, Any]]]:
    """Sample data of every version (half with optional fields null), and edge values."""
    samples = {}
    for version in REGISTRY:
        for n in range(SAMPLES_PER_VERSION):
            datum = sample_event(version, random.Random(n), null_rate=n % 2)
            samples[f"{_key(version)}#{n}"] = (version, datum)
    latest = REGISTRY.latest("BookingCreated")
    edges = {
        "negative decimal -1.28": {"total_amount": Decimal("-1.28")},
        "negative decimal -1.29": {"total_amount": Decimal("-1.29")},
        "smallest negative decimal": {"total_amount": Decimal("-0.01")},
        "largest decimal of precision 12": {"total_amount": Decimal("9999999999.99")},
        "most negative decimal of precision 12": {"total_amount": Decimal("-9999999999.99")},
        "zero decimal": {"total_amount": Decimal("0.00")},
        "non-ASCII text": {"guest_name": "Zoë Ægir 山田 😀", "special_requests": "ü\u0000ß"},
        "dates before the epoch": {"arrival": date(1969, 12, 30), "departure": date(1970, 1, 2)},
        "largest int": {"adults": 2**31 - 1, "children": 0},
    }
    for label, fields in edges.items():
        samples[f"edge: {label}"] = (latest, booking(unit_id="U-9", **fields).model_dump())
    return samples


def _project_bytes(version: SchemaVersion, datum: dict[str, Any]) -> bytes:
    """What the project writes: the codec for a current version, fastavro for an old one
    (the codec only writes current versions; old ones are what earlier releases wrote)."""
    if version is REGISTRY.latest(version.event_type):
        return CODEC.encode(CODEC.model_of(version.event_type).model_validate(datum))
    return message(version, datum)


def _avro_json(version: SchemaVersion, datum: dict[str, Any]) -> str:
    out = StringIO()
    json_writer(out, version.parsed, [datum])
    return out.getvalue().strip()


def _strictness_cases() -> dict[str, tuple[bytes, str]]:
    """F1-F6 of issue 10, each on a field of a valid current-version message."""
    version = REGISTRY.latest("BookingCreated")
    datum = booking(unit_id="U1").model_dump()
    data = message(version, datum)
    spans = {f["name"]: (s, e) for f, s, e in field_spans(version, datum)}
    unit = spans["unit_id"][0]
    good_uuid = data[10:][1:37]
    maintenance = REGISTRY.latest("MaintenanceRequested")
    m_datum = sample_event(maintenance, random.Random(1))
    m_spans = {f["name"]: (s, e) for f, s, e in field_spans(maintenance, m_datum)}
    m_data = message(maintenance, m_datum)
    cases = {
        "F1 negative enum index": (replace(data, spans["status"], varint(-1)), "status"),
        "F1 enum index past the symbols": (replace(data, spans["status"], varint(3)), "status"),
        "F2 negative union index": (data[:unit] + varint(-1) + data[unit + 1 :], "unit_id"),
        "F3 boolean byte 2": (replace(m_data, m_spans["blocks_unit"], b"\x02"), "blocks_unit"),
        "F4 int varint of 6 bytes": (replace(data, spans["adults"], overlong(2, 6)), "adults"),
        "F6 zero-length decimal": (
            replace(data, spans["total_amount"], varint(0)),
            "total_amount",
        ),
    }
    for size in (11, 15, 20):
        cases[f"F4 long varint of {size} bytes"] = (
            _with_overlong_timestamp(data, datum, spans["meta"][0], size),
            "meta.occurred_at",
        )
    for bad in (
        "00000000_0000-4000-8000-000000000001",
        " 0000000-0000-4000-8000-000000000001",
        "00000000-0000-4000-8000-00000000000g",
        "000000000000-4000-8000-0000000000001",
    ):
        cases[f"F5 uuid {bad!r}"] = (data.replace(good_uuid, bad.encode(), 1), "meta.event_id")
    return cases


def _with_overlong_timestamp(
    data: bytes, datum: dict[str, Any], meta_start: int, size: int
) -> bytes:
    """`data` with `meta.occurred_at` written as a `size`-byte varint of the same value."""
    meta_schema = REGISTRY.latest("BookingCreated").schema["fields"][0]["type"]
    spans = {f["name"]: (s, e) for f, s, e in record_spans(meta_schema, datum["meta"], meta_start)}
    millis = (datum["meta"]["occurred_at"] - _EPOCH) // timedelta(milliseconds=1)
    return replace(data, spans["occurred_at"], overlong(millis, size))


def _random_mutations() -> dict[str, bytes]:
    """Seeded: half strictness mutations of a field of every mutable kind, half 1-4 random
    bytes overwritten anywhere in the body."""
    rng = random.Random(20261206)
    versions = [v for v in REGISTRY if any(mutable_kind(f["type"]) for f in v.schema["fields"])]
    out = {}
    for n in range(RANDOM_MUTATIONS):
        version = rng.choice(versions)
        datum = sample_event(version, random.Random(n), null_rate=rng.random())
        if n % 2 == 0:
            mutated, field = mutate(version, datum, rng.randint)
            out[f"mutation {n}: {_key(version)} {field['name']}"] = mutated
        else:
            data = bytearray(message(version, datum))
            for _ in range(rng.randint(1, 4)):
                data[rng.randrange(10, len(data))] = rng.randrange(256)
            out[f"bytes {n}: {_key(version)}"] = bytes(data)
    return out


def normalised(value: Any) -> Any:
    """An event's values in the text form AvroCrossCheck.java prints them."""
    if isinstance(value, Event):
        return normalised(value.model_dump())
    if isinstance(value, dict):
        return {str(k): normalised(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [normalised(v) for v in value]
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, datetime):
        return (value - _EPOCH) // timedelta(milliseconds=1)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, bytes):
        return value.hex()
    return value


def _has_map_of_several(version: SchemaVersion, datum: dict[str, Any]) -> bool:
    """Whether a top-level map field (the only place the contracts use maps) holds more
    than one entry, whose order on the wire Avro leaves to the writer."""
    return any(
        '"map"' in json.dumps(f["type"]) and len(datum[f["name"]] or ()) > 1
        for f in version.schema["fields"]
    )


class CrossCheck:
    """The request sent to Java and its answer, built once per module."""

    def __init__(self) -> None:
        self.samples = _samples()
        self.corpus = {k: _project_bytes(v, d) for k, (v, d) in self.samples.items()}
        self.strictness = _strictness_cases()
        self.mutations = _random_mutations()
        decode = {f"corpus {k}": v.hex() for k, v in self.corpus.items()}
        decode |= {f"strict {k}": v.hex() for k, (v, _) in self.strictness.items()}
        decode |= {f"random {k}": v.hex() for k, v in self.mutations.items()}
        self.answer = run_checker(
            {
                "schemas": {_key(v): record_of(v)[1].decode() for v in REGISTRY},
                "decode": decode,
                "encode": {
                    k: {"schema": _key(v), "json": _avro_json(v, d)}
                    for k, (v, d) in self.samples.items()
                },
            }
        )

    def java_read(self, kind: str, key: str) -> dict[str, Any]:
        result: dict[str, Any] = self.answer["decoded"][f"{kind} {key}"]
        return result


@pytest.fixture(scope="module")
def java() -> CrossCheck:
    return CrossCheck()


def test_java_computes_the_same_fingerprints(java: CrossCheck) -> None:
    expected = {_key(v): v.fingerprint_hex for v in REGISTRY}
    assert java.answer["fingerprints"] == expected


def test_java_reads_the_projects_bytes_to_the_same_values(java: CrossCheck) -> None:
    assert len(java.corpus) >= len(list(REGISTRY)) * SAMPLES_PER_VERSION
    for key, data in java.corpus.items():
        read = java.java_read("corpus", key)
        assert "error" not in read, f"Java cannot read {key}: {read['error']}"
        assert read["value"] == normalised(CODEC.decode(data)), key


def test_the_project_reads_javas_bytes_to_the_same_values(java: CrossCheck) -> None:
    identical = 0
    for key, (version, datum) in java.samples.items():
        written = java.answer["encoded"][key]
        assert "error" not in written, f"Java cannot write {key}: {written['error']}"
        javas = bytes.fromhex(written["hex"])
        ours = java.corpus[key]
        assert javas[:10] == version.header, key
        assert normalised(CODEC.decode(javas)) == normalised(CODEC.decode(ours)), key
        current = version is REGISTRY.latest(version.event_type)
        if current and not _has_map_of_several(version, datum):
            assert javas == ours, f"{key}: Java wrote {javas.hex()}, the project {ours.hex()}"
            identical += 1
    assert identical >= len(REGISTRY.event_types) * (SAMPLES_PER_VERSION // 2)


def test_f1_to_f6_java_refuses_all_but_f3_and_the_project_refuses_all(
    java: CrossCheck,
) -> None:
    for label, (data, field) in java.strictness.items():
        read = java.java_read("strict", label)
        if label.startswith("F3"):
            # The intended difference: Java reads a boolean byte of 2 as false.
            assert read.get("value", {}).get(field) is False, read
        else:
            assert "error" in read, f"{label}: Java read {read.get('value')}"
        with pytest.raises(MalformedEventError) as caught:
            CODEC.decode(data)
        assert caught.value.field == field, f"{label}: {caught.value}"


def test_every_random_mutation_java_refuses_the_project_refuses(java: CrossCheck) -> None:
    refused_by_java = 0
    for key, data in java.mutations.items():
        read = java.java_read("random", key)
        try:
            event = CODEC.decode(data)
        except DecodeError:
            refused_by_java += "error" in read
            continue
        assert "error" not in read, f"{key}: Java refused ({read['error']}), the project read it"
        assert read["value"] == normalised(event), key
    assert refused_by_java >= RANDOM_MUTATIONS // 4  # the check is not vacuous
