"""Contract: group offsets that a broker crash leaves pending for good are settled by the
worker slots' own transactional ids, and the group goes on from its last confirmed offsets.

Kafka 4.4.0 can finish a transaction that was being committed when the single broker was
SIGKILLed without ever writing its marker to ``__consumer_offsets`` (docs/reliability.md,
Finding 7). The group's offsets of its partitions then answer ``UNSTABLE_OFFSET_COMMIT``
for good, and a ``read_committed`` consumer of them fetches nothing. To reproduce it,
``SLOTS`` transactional producers, named as a worker group's slots are, commit the group's
offset of one partition each in a tight loop (the checkpoint a worker makes); the broker is
SIGKILLed and started again, up to ``ATTEMPTS`` times, until some partition stays unstable
for longer than a live transaction can last. Then every slot runs
`TransactionalCommitter.abort_offsets` (what each worker does on finding them,
`frontdesk.worker.hanging`). The run must end with:

* the workers' `OffsetsProbe` finding the group's offsets pending, and not after settling;
* every partition's committed offset within one commit of the last one its slot saw
  confirmed: one past it where a commit landed but its answer was lost in the crash, one
  before it where the hanging commit was dropped. The coordinator answers a commit once
  ``PREPARE_COMMIT`` is logged, before its markers, so a hanging commit may have been
  confirmed: dropping it means its events are handled again. None is skipped;
* no slot failing to settle, and a hang reproduced within ``ATTEMPTS`` crashes.
"""

from __future__ import annotations

import threading
import time

import pytest
from confluent_kafka import Consumer, TopicPartition

from frontdesk.broker import LocalBroker
from frontdesk.worker.handoff import TransactionalCommitter
from frontdesk.worker.hanging import OffsetsProbe
from tests.reliability import report
from tests.reliability.harness import cluster_of
from tests.support.kafka import Cluster, unique

SLOTS = 32
ATTEMPTS = 12  # a crash catches a commit mid-way about every second try (1 to 5 seen)
TXN_TIMEOUT = 5.0
# A live transaction ends within its timeout plus the coordinator's cleanup interval (10 s)
SETTLED_WITHIN = TXN_TIMEOUT + 10 + 5


def _commit_loop(
    slot: TransactionalCommitter,
    tp: TopicPartition,
    metadata: object,
    confirmed: dict[int, int],
    stop: threading.Event,
) -> None:
    """Commit ``tp``'s offset +1 per transaction until stopped or the broker goes away."""
    offset = confirmed.get(tp.partition, 0)
    while not stop.is_set():
        offset += 1
        try:
            slot.commit([], [TopicPartition(tp.topic, tp.partition, offset)], metadata)
        except Exception:
            return
        confirmed[tp.partition] = offset


def _reproduce(
    broker: LocalBroker, cluster: Cluster, topic: str, group: str, confirmed: dict[int, int]
) -> int:
    """Crash the broker mid-commit until the group's offsets hang; the crashes it took."""
    for attempt in range(1, ATTEMPTS + 1):
        consumer = cluster.consumer(group)
        metadata = consumer.consumer_group_metadata()
        slots = [
            TransactionalCommitter(cluster.config, f"{group}.slot-{n}", TXN_TIMEOUT)
            for n in range(SLOTS)
        ]
        for slot in slots:
            slot.start()
        stop = threading.Event()
        threads = [
            threading.Thread(
                target=_commit_loop,
                args=(slot, TopicPartition(topic, n), metadata, confirmed, stop),
                daemon=True,
            )
            for n, slot in enumerate(slots)
        ]
        for thread in threads:
            thread.start()
        time.sleep(2)
        broker.kill()
        stop.set()
        print(f"attempt {attempt}: broker killed, commits confirmed {sum(confirmed.values())}")
        joined_by = time.monotonic() + 60
        for thread in threads:
            thread.join(max(0.0, joined_by - time.monotonic()))
        consumer.close()
        broker.start(timeout=120)
        print(f"attempt {attempt}: broker back, {sum(t.is_alive() for t in threads)} slots busy")
        probe = OffsetsProbe(cluster.config, group, f"^{topic}$", "test")
        try:
            deadline = time.monotonic() + SETTLED_WITHIN
            while (pending := probe.pending()) is not False and time.monotonic() < deadline:
                time.sleep(1)
        finally:
            probe.close()
        print(f"attempt {attempt}: group offsets pending {SETTLED_WITHIN:.0f} s on: {pending}")
        if pending:
            return attempt
    raise AssertionError(f"no hanging offsets after {ATTEMPTS} broker crashes mid-commit")


@pytest.mark.timeout(1200)  # each crash costs about a minute; runs needed one to five
def test_hanging_group_offsets_are_settled_by_their_slot(
    own_broker: LocalBroker,
) -> None:
    began = time.monotonic()
    cluster = cluster_of(own_broker)
    topic = unique("hang")
    group = unique("hang-group")
    cluster.create_topic(topic, partitions=SLOTS)
    confirmed: dict[int, int] = {}

    attempts = _reproduce(own_broker, cluster, topic, group, confirmed)
    probe = OffsetsProbe(cluster.config, group, f"^{topic}$", "test")
    assert probe.pending() is True, "hanging offsets must not settle by themselves"

    consumer: Consumer = cluster.consumer(group)
    metadata = consumer.consumer_group_metadata()
    anchor = TopicPartition(topic, 0, 0)
    for n in range(SLOTS):  # every slot settles its own share; most have none
        slot = TransactionalCommitter(cluster.config, f"{group}.slot-{n}", TXN_TIMEOUT)
        slot.start()
        slot.abort_offsets(anchor, metadata)
        assert not slot.open
        slot.close()
    consumer.close()

    deadline = time.monotonic() + 30
    while (pending := probe.pending()) is not False and time.monotonic() < deadline:
        time.sleep(0.5)
    probe.close()
    assert pending is False, "the group's offsets still pending after every slot settled"
    committed = cluster.committed(group, topic)
    for partition, offset in confirmed.items():
        assert offset - 1 <= committed[partition] <= offset + 1, (partition, offset, committed)

    report.record(
        "hanging_offsets",
        {
            "slots": SLOTS,
            "broker_crashes": attempts,
            "partitions_one_past_confirmed": sum(
                committed[p] == o + 1 for p, o in confirmed.items()
            ),
            "partitions_rolled_back_one": sum(committed[p] == o - 1 for p, o in confirmed.items()),
            "runtime_s": round(time.monotonic() - began, 1),
        },
    )
