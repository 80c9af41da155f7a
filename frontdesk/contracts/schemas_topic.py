"""Writer schemas on a compacted topic, so that consumers read versions they do not ship.

Single-object encoding carries only the writer's fingerprint. A consumer deployed before
a producer that writes a newer version has no schema for that fingerprint, and without one
it cannot resolve the bytes into its own (older) reader schema. The ecosystem's answer is a
schema store; ours is one compacted topic, `<ns.>frontdesk.schemas` (`naming.schemas_topic`),
declared by the topology:

- key: the fingerprint as 16 lowercase hex characters (wire byte order);
- value: the writer schema as JSON (UTF-8), expanded (shared types inlined) and complete:
  not only its Parsing Canonical Form, which drops the logical types (a decimal's scale, a
  date) that reading the data needs.

Producers publish the schema of each fingerprint before their first event of it, and
`frontdesk schemas publish` publishes every version under `schemas/` (idempotent).

A record is trusted only if its value parses as a schema whose Parsing Canonical Form has
the key as CRC-64-AVRO fingerprint. A record that fails is ignored, so a mistyped, garbled
or misfiled record cannot make a consumer misread an event. The fingerprint does not cover
everything, though: attributes outside the canonical form (logical types, precision and
scale, docs, `frontdesk.*` limits) can differ under the same fingerprint, and CRC-64 is not
a cryptographic hash, so someone able to write the topic could forge a different schema
with the same fingerprint. That is why only the platform's principals may write it (the
topology grants tenant principals READ only; see `frontdesk/admin/acls.py`).
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Iterable, Mapping
from typing import Any

from confluent_kafka import OFFSET_BEGINNING, Consumer, KafkaException, Producer, TopicPartition
from fastavro.schema import fingerprint, to_parsing_canonical_form

from frontdesk.contracts.registry import SchemaRegistry, SchemaVersion

log = logging.getLogger(__name__)

DEFAULT_TIMEOUT = 2.0
"""Longest a lookup waits for the topic (a miss: watermark query plus reading to it)."""
FORGET_MISS_AFTER = 10.0
"""Seconds a fingerprint found nowhere is answered as a miss without asking the broker."""


def record_of(version: SchemaVersion) -> tuple[bytes, bytes]:
    """The (key, value) that publishes `version`."""
    return version.fingerprint_hex.encode(), json.dumps(version.schema).encode()


def verified(key: bytes | None, value: bytes | None) -> tuple[bytes, str] | None:
    """(fingerprint, schema JSON) of a record that proves itself, else None."""
    if key is None or value is None or len(key) != 16:
        return None
    try:
        fp = bytes.fromhex(key.decode("ascii"))
        text = value.decode("utf-8")
        canonical = to_parsing_canonical_form(json.loads(text))
        if bytes.fromhex(fingerprint(canonical, "CRC-64-AVRO")) != fp:
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
    a stream of records with the same bogus fingerprint costs one broker round trip; a
    topic that cannot be read is not asked again for as long; every lookup is bounded by
    `timeout`. Lookups run on the caller's thread (the worker's event loop): a miss costs
    one watermark query and the read of what was published since the last one.
    """

    def __init__(
        self,
        config: Mapping[str, Any],
        topic: str,
        *,
        timeout: float = DEFAULT_TIMEOUT,
        group: str | None = None,
    ) -> None:
        """``group``: a group the reader's (never joined) group id goes under, so that a
        dedicated tenant's worker reads with the tenant's group ACL alone."""
        self.topic = topic
        self.timeout = timeout
        self._group_id = f"{group}.schemas-reader" if group else "frontdesk-schemas-reader"
        self._config = {
            k: v
            for k, v in config.items()
            if not k.startswith(("group.", "enable.", "auto.", "transactional", "isolation"))
        }
        self._schemas: dict[bytes, str] = {}
        self._missed: dict[bytes, float] = {}
        self._consumer: Consumer | None = None
        self._next = 0
        self._unreadable_until = 0.0
        """The offset after the last record read."""
        self._lock = threading.Lock()

    def lookup(self, fp: bytes) -> str | None:
        """The schema JSON whose fingerprint is `fp`, or None if no one published it."""
        with self._lock:
            if (found := self._schemas.get(fp)) is not None:
                return found
            now = time.monotonic()
            missed = self._missed.get(fp)
            if missed is not None and now - missed < FORGET_MISS_AFTER:
                return None
            if now < self._unreadable_until:
                return None
            try:
                self._catch_up()
            except KafkaException as exc:
                # Missing or refused: every lookup would wait for the same answer.
                self._unreadable_until = now + FORGET_MISS_AFTER
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
        low, high = consumer.get_watermark_offsets(partition, timeout=self.timeout, cached=False)
        self._next = max(self._next, low)
        while self._next < high:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                log.warning("schemas topic %s: read stopped at its time limit", self.topic)
                return
            for msg in consumer.consume(500, timeout=min(remaining, 0.5)):
                if msg.error():
                    continue
                self._next = max(self._next, (msg.offset() or 0) + 1)
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
                "group.id": self._group_id,  # required; nothing is committed
                "enable.auto.commit": False,
                "enable.partition.eof": False,
            }
            consumer = Consumer(conf)
            consumer.assign([TopicPartition(self.topic, 0, OFFSET_BEGINNING)])
            self._consumer = consumer
        return self._consumer


class SchemaPublisher:
    """Publishes, through a producer's own client, the schema of each fingerprint it is
    about to send for the first time, and waits for the broker to store it: an event can
    then never be in a topic before its writer schema is in the schemas topic.

    Costs one round trip per schema version per process. A refusal (a tenant principal may
    not write the topic, or it does not exist yet) is logged once and the event is sent
    anyway: the release's schemas are published by `frontdesk schemas publish`.
    """

    def __init__(
        self, kafka: Producer, topic: str, registry: SchemaRegistry, timeout: float = 10.0
    ) -> None:
        self.topic = topic
        self._kafka = kafka
        self._registry = registry
        self._timeout = timeout
        self._done: set[bytes] = set()
        self._lock = threading.Lock()

    def before_send(self, value: bytes) -> None:
        """Publish the writer schema of the encoded event `value`, once per process."""
        fp = value[2:10]
        if fp in self._done:
            return
        with self._lock:
            if fp not in self._done:
                self._publish(fp)
                self._done.add(fp)

    def _publish(self, fp: bytes) -> None:
        version = self._registry.by_fingerprint(fp)
        if version is None:
            return
        try:
            meta = self._kafka.list_topics(self.topic, timeout=self._timeout).topics[self.topic]
        except KafkaException as exc:
            log.warning("schemas topic %s not checked: %s", self.topic, exc)
            return
        if meta.error is not None:
            log.warning(
                "%r not published: schemas topic %s: %s (run frontdesk topics apply, then "
                "frontdesk schemas publish)",
                version,
                self.topic,
                meta.error,
            )
            return
        outcome: list[Any] = []
        key, canonical = record_of(version)
        self._kafka.produce(
            self.topic, canonical, key, on_delivery=lambda err, _msg: outcome.append(err)
        )
        self._kafka.flush(self._timeout)
        if not outcome or outcome[0] is not None:
            log.warning("%r not published to %s: %s", version, self.topic, outcome or "no answer")


def missing_records(
    registry: SchemaRegistry | Iterable[SchemaVersion], published: Mapping[bytes, str]
) -> list[tuple[bytes, bytes]]:
    """The records that publish the versions `published` does not hold yet."""
    return [record_of(v) for v in registry if v.fingerprint not in published]


def publish_registry(
    config: Mapping[str, Any], topic: str, registry: SchemaRegistry, timeout: float = 30.0
) -> list[SchemaVersion]:
    """Publish every version of `registry` the topic lacks; the versions written.

    Idempotent: the topic is read first, so a second run writes nothing.
    """
    reader = SchemaTopicReader(config, topic, timeout=timeout)
    try:
        published = reader.known()
    finally:
        reader.close()
    todo = [v for v in registry if v.fingerprint not in published]
    if not todo:
        return []
    producer = Producer({**config, "enable.idempotence": True})
    failures: list[str] = []

    def delivered(err: Any, _msg: Any) -> None:
        if err is not None:
            failures.append(str(err))

    for version in todo:
        key, value = record_of(version)
        producer.produce(topic, value, key, on_delivery=delivered)
    left = producer.flush(timeout)
    if failures or left:
        raise KafkaException(failures[0] if failures else f"{left} schemas not confirmed")
    return todo


__all__ = [
    "DEFAULT_TIMEOUT",
    "FORGET_MISS_AFTER",
    "SchemaPublisher",
    "SchemaTopicReader",
    "missing_records",
    "publish_registry",
    "record_of",
    "verified",
]
