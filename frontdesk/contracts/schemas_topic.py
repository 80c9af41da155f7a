"""Writer schemas on a compacted topic, so that consumers read versions they do not ship.

Single-object encoding carries only the writer's fingerprint. A consumer deployed before
a producer that writes a newer version has no schema for that fingerprint, and without one
it cannot resolve the bytes into its own (older) reader schema. The ecosystem's answer is a
schema store; ours is one compacted topic, `<ns.>frontdesk.schemas` (`naming.schemas_topic`),
declared by the topology:

- key: the fingerprint as 16 lowercase hex characters (wire byte order);
- value: the schema's Parsing Canonical Form, UTF-8.

Producers publish the schema of each fingerprint before their first event of it, and
`frontdesk schemas publish` publishes every version under `schemas/` (idempotent).

A record is trusted only if its value *is* a canonical form (parsing it and writing the
canonical form again gives the same text) and CRC-64-AVRO of that text is the key. A record
that fails is ignored, so a mistyped or garbled record cannot make a consumer misread an
event. CRC-64 is not a cryptographic hash, though: someone able to write the topic could
forge a different schema with the same fingerprint. That is why only the platform's
principals may write it (the topology grants tenant principals READ only; see
`frontdesk/admin/acls.py`).
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Iterable, Mapping
from typing import Any

from confluent_kafka import OFFSET_BEGINNING, Consumer, KafkaException, TopicPartition
from fastavro.schema import fingerprint, to_parsing_canonical_form

from frontdesk.contracts.registry import SchemaRegistry, SchemaVersion

log = logging.getLogger(__name__)

DEFAULT_TIMEOUT = 2.0
"""Longest a lookup waits for the topic (a miss: watermark query plus reading to it)."""
FORGET_MISS_AFTER = 10.0
"""Seconds a fingerprint found nowhere is answered as a miss without asking the broker."""


def record_of(version: SchemaVersion) -> tuple[bytes, bytes]:
    """The (key, value) that publishes `version`."""
    return version.fingerprint_hex.encode(), version.canonical_form.encode()


def verified(key: bytes | None, value: bytes | None) -> tuple[bytes, str] | None:
    """(fingerprint, canonical form) of a record that proves itself, else None."""
    if key is None or value is None or len(key) != 16:
        return None
    try:
        fp = bytes.fromhex(key.decode("ascii"))
        text = value.decode("utf-8")
        if to_parsing_canonical_form(json.loads(text)) != text:
            return None
        if bytes.fromhex(fingerprint(text, "CRC-64-AVRO")) != fp:
            return None
    except Exception:  # any undecodable record is simply not trusted
        return None
    return fp, text


class SchemaTopicReader:
    """Looks fingerprints up in the schemas topic; thread-safe, cached.

    The whole topic is read on the first miss (it is small: one record per schema version
    ever published) and again, from where it left off, on each later miss: producers
    publish a schema before the first event that uses it, so reading up to the current end
    finds it. A fingerprint found nowhere is remembered for `FORGET_MISS_AFTER` seconds, so
    a stream of records with the same bogus fingerprint costs one broker round trip, and
    every lookup is bounded by `timeout`.
    """

    def __init__(
        self,
        config: Mapping[str, Any],
        topic: str,
        *,
        timeout: float = DEFAULT_TIMEOUT,
    ) -> None:
        self.topic = topic
        self.timeout = timeout
        self._config = {
            k: v
            for k, v in config.items()
            if not k.startswith(("group.", "enable.", "auto.", "transactional", "isolation"))
        }
        self._schemas: dict[bytes, str] = {}
        self._missed: dict[bytes, float] = {}
        self._consumer: Consumer | None = None
        self._lock = threading.Lock()

    def lookup(self, fp: bytes) -> str | None:
        """The canonical form whose fingerprint is `fp`, or None if no one published it."""
        with self._lock:
            if (found := self._schemas.get(fp)) is not None:
                return found
            missed = self._missed.get(fp)
            if missed is not None and time.monotonic() - missed < FORGET_MISS_AFTER:
                return None
            try:
                self._catch_up()
            except KafkaException as exc:
                log.warning("schemas topic %s unreadable: %s", self.topic, exc)
            found = self._schemas.get(fp)
            if found is None:
                self._missed[fp] = time.monotonic()
            return found

    def known(self) -> dict[bytes, str]:
        """Every verified schema on the topic, read up to its current end."""
        with self._lock:
            self._catch_up()
            return dict(self._schemas)

    def close(self) -> None:
        with self._lock:
            if self._consumer is not None:
                self._consumer.close()
                self._consumer = None

    def _catch_up(self) -> None:
        deadline = time.monotonic() + self.timeout
        consumer = self._open()
        partition = TopicPartition(self.topic, 0)
        _, high = consumer.get_watermark_offsets(partition, timeout=self.timeout, cached=False)
        while True:
            [position] = consumer.position([partition])
            if position.offset >= high:
                return
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                log.warning("schemas topic %s: read stopped at its time limit", self.topic)
                return
            for msg in consumer.consume(500, timeout=min(remaining, 0.5)):
                if msg.error():
                    continue
                self._remember(msg.key(), msg.value())

    def _remember(self, key: bytes | None, value: bytes | None) -> None:
        record = verified(key, value)
        if record is None:
            log.warning("schemas topic %s: ignored a record that does not prove itself", self.topic)
            return
        fp, text = record
        self._schemas[fp] = text
        self._missed.pop(fp, None)

    def _open(self) -> Consumer:
        if self._consumer is None:
            conf = {
                **self._config,
                "group.id": "frontdesk-schemas-reader",  # required; nothing is committed
                "enable.auto.commit": False,
                "enable.partition.eof": False,
            }
            consumer = Consumer(conf)
            consumer.assign([TopicPartition(self.topic, 0, OFFSET_BEGINNING)])
            self._consumer = consumer
        return self._consumer


def missing_records(
    registry: SchemaRegistry | Iterable[SchemaVersion], published: Mapping[bytes, str]
) -> list[tuple[bytes, bytes]]:
    """The records that publish the versions `published` does not hold yet."""
    return [record_of(v) for v in registry if v.fingerprint not in published]


__all__ = [
    "DEFAULT_TIMEOUT",
    "FORGET_MISS_AFTER",
    "SchemaTopicReader",
    "missing_records",
    "record_of",
    "verified",
]
