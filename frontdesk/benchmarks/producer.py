"""Typed sends against raw confluent-kafka: what validation, encoding and routing cost.

Both sides produce the same events, with the same producer settings, to the same broker,
into separate fresh topics, in the same process, and both end with `flush()` so only
confirmed deliveries count. Ours gets typed events (routing, headers, encoding, a delivery
handle and the span check per send); the baseline gets the bytes, keys and headers already
encoded, i.e. the floor any Python producer stands on. Rounds alternate and the best of
each side is kept, so a noisy neighbour on the machine hurts both alike.
"""

from __future__ import annotations

import cProfile
import io
import pstats
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass
from typing import Any

import confluent_kafka
from confluent_kafka.admin import AdminClient
from confluent_kafka.cimpl import NewTopic

from frontdesk.benchmarks._common import PARTITIONS, cluster_config
from frontdesk.codec import default_codec
from frontdesk.events import Event
from frontdesk.producer import Producer, producer_config
from frontdesk.producer.routing import Outgoing, Router
from frontdesk.queues import QueueType
from frontdesk.topology import Topology
from frontdesk.topology.model import parse_topology


@dataclass(frozen=True)
class ProducerBenchResult:
    events: int
    ours: float
    """Typed events per second, delivery confirmed."""
    baseline: float
    """Pre-encoded records per second with raw confluent-kafka, delivery confirmed."""
    ratio: float
    avro_bytes_per_event: float
    json_bytes_per_event: float
    rounds: int

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _topology(namespace: str) -> Topology:
    queues = ", ".join(f"{q.value}: {{partitions: {PARTITIONS}}}" for q in QueueType)
    return parse_topology(f"cluster: {{namespace: {namespace}}}\nqueues: {{{queues}}}\n")


def _create_topics(admin: AdminClient, topology: Topology) -> None:
    names = [topology.main_topic_for(q, "bench") for q in QueueType]
    futures = admin.create_topics([NewTopic(n, PARTITIONS, 1) for n in names])
    for future in futures.values():
        future.result(timeout=30)
    time.sleep(1.0)  # let leaders settle so neither side pays for elections


def make_events(count: int, seed: int = 7) -> list[Event]:
    """A realistic mix of event types over 20 tenants x 10 properties."""
    from producers.simulator import Simulation  # noqa: PLC0415 - the repo's simulator app

    tenants = [f"bench-{i:02d}" for i in range(20)]
    return list(Simulation(tenants, 10, seed).events(count))


def _run_ours(config: Mapping[str, Any], topology: Topology, events: list[Event]) -> float:
    with Producer(config=config, topology=topology) as producer:
        send = producer.send
        began = time.perf_counter()
        for event in events:
            send(event)
        producer.flush()
        return len(events) / (time.perf_counter() - began)


def _run_raw(config: Mapping[str, Any], records: list[Outgoing]) -> float:
    kafka = confluent_kafka.Producer(producer_config(None, config))
    failed: list[Any] = []

    def delivered(err: Any, _msg: Any) -> None:
        if err is not None:
            failed.append(err)

    produce, poll = kafka.produce, kafka.poll
    began = time.perf_counter()
    for r in records:
        while True:
            try:
                produce(r.topic, r.value, r.key, on_delivery=delivered, headers=r.headers)  # type: ignore[arg-type]
                break
            except BufferError:
                poll(0.05)
        poll(0)
    kafka.flush()
    rate = len(records) / (time.perf_counter() - began)
    if failed:
        raise RuntimeError(f"baseline: {len(failed)} deliveries failed, first {failed[0]}")
    return rate


def run_producer_bench(
    events: int = 50_000,
    *,
    rounds: int = 2,
    config: Mapping[str, Any] | None = None,
    say: Callable[[str], None] = print,
    profile: bool = False,
) -> ProducerBenchResult:
    config = dict(config) if config is not None else cluster_config(say=say)
    admin = AdminClient(config)
    run_id = uuid.uuid4().hex[:8]
    ours_topo, raw_topo = _topology(f"bench-ours-{run_id}"), _topology(f"bench-raw-{run_id}")
    _create_topics(admin, ours_topo)
    _create_topics(admin, raw_topo)

    say(f"building {events} events")
    batch = make_events(events)
    raw_router = Router(raw_topo, default_codec())
    records = [raw_router.prepare(e) for e in batch]
    avro = sum(len(r.value) for r in records) / len(records)
    json_size = sum(len(e.model_dump_json()) for e in batch) / len(batch)

    warm = batch[: min(2000, len(batch))]
    _run_raw(config, records[: len(warm)])
    _run_ours(config, ours_topo, warm)
    best_ours = best_raw = 0.0
    for n in range(rounds):
        best_raw = max(best_raw, _run_raw(config, records))
        best_ours = max(best_ours, _run_ours(config, ours_topo, batch))
        say(f"round {n + 1}: baseline {best_raw:,.0f}/s, ours {best_ours:,.0f}/s")
    if profile:
        say(profile_ours(config, ours_topo, batch))
    return ProducerBenchResult(
        events=events,
        ours=round(best_ours),
        baseline=round(best_raw),
        ratio=round(best_ours / best_raw, 3),
        avro_bytes_per_event=round(avro, 1),
        json_bytes_per_event=round(json_size, 1),
        rounds=rounds,
    )


def profile_ours(config: Mapping[str, Any], topology: Topology, events: list[Event]) -> str:
    """cProfile of one typed run: where a send's time goes."""
    profiler = cProfile.Profile()
    profiler.enable()
    _run_ours(config, topology, events)
    profiler.disable()
    out = io.StringIO()
    pstats.Stats(profiler, stream=out).sort_stats("tottime").print_stats(18)
    return out.getvalue()


__all__ = ["ProducerBenchResult", "cluster_config", "make_events", "run_producer_bench"]
