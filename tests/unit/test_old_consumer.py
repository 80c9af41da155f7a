"""Old consumers read new versions: a consumer one version behind on every evolved type
decodes what the newest producer writes, through the writer schema it finds published,
with the new fields dropped; a fingerprint published nowhere stays `unknown_schema`.

Pure resolution over every (v_n writer, v_{n-1} reader) pair with sample data; the
schemas topic is replaced by a dict here (tests/integration/test_old_consumer_reads_new_
versions.py runs the same through the broker)."""

from __future__ import annotations

import random
from io import BytesIO
from pathlib import Path

import pytest
from fastavro import schemaless_reader, schemaless_writer

from frontdesk.codec import PUBLISHED_VERSION
from frontdesk.contracts.registry import SchemaVersion
from frontdesk.contracts.samples import sample_event
from frontdesk.contracts.schemas_topic import record_of, verified
from frontdesk.errors import UnknownSchemaError
from tests.support.contracts import codec_without, evolved


class Published:
    """The schemas topic's content, as `SchemaTopicReader.lookup` answers it."""

    def __init__(self, *versions: SchemaVersion) -> None:
        self.schemas: dict[bytes, str] = {}
        for version in versions:
            record = verified(*record_of(version))
            assert record is not None
            self.schemas[record[0]] = record[1]

    def lookup(self, fp: bytes) -> str | None:
        return self.schemas.get(fp)


def _wire(version: SchemaVersion, datum: object) -> bytes:
    out = BytesIO()
    out.write(version.header)
    schemaless_writer(out, version.parsed, datum)
    return out.getvalue()


PAIRS = evolved()


def test_some_type_has_evolved() -> None:
    assert PAIRS, "no evolved type: this suite would prove nothing"


@pytest.mark.parametrize(("writer", "reader"), PAIRS, ids=repr)
def test_one_version_behind_reads_the_newest(
    writer: SchemaVersion, reader: SchemaVersion, tmp_path: Path
) -> None:
    codec = codec_without(tmp_path, {writer.event_type: reader.version}, Published(writer))
    model = codec.model_of(writer.event_type)
    assert model.schema_version == reader.version
    dropped = {f["name"] for f in writer.schema["fields"]} - {
        f["name"] for f in reader.schema["fields"]
    }
    rng = random.Random(f"{writer!r}")
    for _ in range(200):
        datum = sample_event(writer, rng)
        data = _wire(writer, datum)
        event = codec.decode(data)
        assert type(event) is model
        expected = schemaless_reader(BytesIO(data[10:]), writer.parsed, reader.parsed)
        assert event == model.model_validate(expected)
        assert not dropped & set(event.model_dump())
        assert codec.writer_of(data).version == PUBLISHED_VERSION


@pytest.mark.parametrize(("writer", "reader"), PAIRS, ids=repr)
def test_unpublished_newer_version_is_unknown_schema(
    writer: SchemaVersion, reader: SchemaVersion, tmp_path: Path
) -> None:
    codec = codec_without(tmp_path, {writer.event_type: reader.version}, Published())
    data = _wire(writer, sample_event(writer, random.Random(1)))
    with pytest.raises(UnknownSchemaError) as caught:
        codec.decode(data)
    assert caught.value.reason == "unknown_schema"
    assert caught.value.fingerprint == writer.fingerprint_hex


def test_a_record_that_does_not_hash_to_its_key_is_not_trusted() -> None:
    [(writer, reader)] = PAIRS[:1]
    key, value = record_of(writer)
    assert verified(key, value) is not None
    other_key, _ = record_of(reader)
    assert verified(other_key, value) is None  # a schema filed under another fingerprint
    assert verified(key, value.replace(b'"long"', b'"int"', 1)) is None  # tampered
    assert verified(key, b"{" + value) is None  # not JSON
    assert verified(key, None) is None  # a tombstone
    assert verified(b"zz" * 8, value) is None
