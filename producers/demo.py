"""The demo: the whole frontdesk story on one machine, in about a minute.

``frontdesk demo`` (and ``make demo``) runs it: the embedded Kafka broker (or the cluster in
``FRONTDESK_BOOTSTRAP_SERVERS``), the demo topology (``deploy/topology.demo.yaml``: the
``demo`` namespace, retry tiers of seconds), the four consumer deployments as real worker
processes, a fake channel manager (OTA) and messaging provider that fail for a while,
simulated PMS traffic, and a few deliberately bad events. It waits until every worker group
has committed to the end of its topics, reads the workers' own Prometheus counters, and
prints what happened: handled, retried per tier, dead-lettered with reasons, diverted,
held keys, per tenant.

Everything it reports is measured from the running system; the only things it decides are
the traffic (seeded) and the trouble it injects, which it lists before it starts.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
from confluent_kafka import Consumer, TopicPartition
from confluent_kafka import Producer as KafkaProducer
from confluent_kafka.admin import AdminClient
from prometheus_client.parser import text_string_to_metric_families

from consumers.fakes.messaging import FakeMessaging
from consumers.fakes.ota import FakeOta
from frontdesk import headers
from frontdesk.admin.topics import apply_topics, plan_topics
from frontdesk.codec import default_codec
from frontdesk.connection import default_broker
from frontdesk.events import GuestCheckedOut
from frontdesk.naming import retry_topic
from frontdesk.producer import Producer
from frontdesk.queues import QueueType
from frontdesk.settings import Settings
from frontdesk.topology import Topology, load_topology
from producers.simulator import Simulation, run, tenant_ids

REPO = Path(__file__).resolve().parents[1]
DEMO_TOPOLOGY = REPO / "deploy" / "topology.demo.yaml"

DEPLOYMENTS: dict[QueueType, str] = {
    QueueType.OPERATIONAL: "consumers.operational.app:app",
    QueueType.AUTOMATION: "consumers.automation.app:app",
    QueueType.SYNC: "consumers.sync.app:app",
}
"""One worker process per queue; the fallback deployment joins when its app exists."""
if (REPO / "consumers" / "fallback" / "app.py").exists():
    DEPLOYMENTS[QueueType.FALLBACK] = "consumers.fallback.app:app"

Say = Callable[[str], None]


@dataclass(frozen=True)
class DemoOptions:
    events: int = 2000
    seed: int = 7
    tenants: int = 4
    properties: int = 6
    ota_failures: int = 40
    """Pushes the fake OTA answers with 500 before it recovers: they go through retries."""
    messaging_failures: int = 10
    timeout: float = 150.0
    """Seconds to wait for the workers to finish before reporting what is still pending."""
    workdir: Path = field(default_factory=lambda: Path.home() / ".local/share/frontdesk/demo")


@dataclass
class WorkerCounts:
    """What the workers' Prometheus endpoints said, summed over the deployments."""

    handled: Counter[tuple[str, str]] = field(default_factory=Counter)  # (queue, tenant)
    failed_attempts: Counter[str] = field(default_factory=Counter)  # queue
    retries: Counter[tuple[str, str]] = field(default_factory=Counter)  # (queue, tier)
    dead_letters: Counter[tuple[str, str]] = field(default_factory=Counter)  # (queue, reason)
    diverted: Counter[str] = field(default_factory=Counter)  # queue


@dataclass
class DemoReport:
    produced: Counter[tuple[str, str]]  # (queue, tenant)
    injected: list[str]
    counts: WorkerCounts
    drained: bool
    elapsed: float
    pending: dict[str, int]
    ota_pushes: int
    messages_sent: int
    bootstrap: str


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def ensure_cluster(settings: Settings, say: Say) -> str:
    """The bootstrap address: the configured cluster, else the embedded broker (started
    if needed and left running, so the dead letters can be reviewed afterwards)."""
    if settings.bootstrap_servers:
        return settings.bootstrap_servers
    broker = default_broker(settings)
    state = broker.status() or broker.start(on_progress=say)
    return state.bootstrap_servers


@contextmanager
def _workers(
    topology_file: Path, bootstrap: str, workdir: Path, extra_env: dict[str, str]
) -> Iterator[dict[QueueType, int]]:
    """Start one worker process per deployment; yield their metrics ports; stop them
    gracefully (SIGTERM drains and commits) on the way out."""
    procs: list[subprocess.Popen[bytes]] = []
    ports: dict[QueueType, int] = {}
    base = {
        **os.environ,
        **extra_env,
        "FRONTDESK_BOOTSTRAP_SERVERS": bootstrap,
        "FRONTDESK_TOPOLOGY": str(topology_file),
    }
    try:
        for queue, target in DEPLOYMENTS.items():
            port = ports[queue] = _free_port()
            log = (workdir / f"worker-{queue.value}.log").open("wb")
            store = f"sqlite:///{workdir / f'{queue.value}.db'}"
            cmd = [sys.executable, "-m", "frontdesk", "worker", target]
            cmd += ["--metrics-port", str(port), "--log-level", "WARNING"]
            env = {**base, "FRONTDESK_STORE_URL": store}
            procs.append(
                subprocess.Popen(cmd, env=env, stdout=log, stderr=subprocess.STDOUT, cwd=REPO)
            )
            log.close()
        yield ports
    finally:
        for proc in procs:
            proc.send_signal(signal.SIGTERM)
        for proc in procs:
            try:
                proc.wait(30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def _scrape(ports: dict[QueueType, int]) -> WorkerCounts:
    counts = WorkerCounts()
    for queue, port in ports.items():
        text = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=5).text
        for family in text_string_to_metric_families(text):
            for sample in family.samples:
                if not sample.name.endswith("_total"):
                    continue
                labels, value = sample.labels, int(sample.value)
                if family.name == "frontdesk_events_handled":
                    counts.handled[(queue.value, labels.get("tenant", "?"))] += value
                elif family.name == "frontdesk_events_failed":
                    counts.failed_attempts[queue.value] += value
                elif family.name == "frontdesk_retries":
                    counts.retries[(queue.value, labels.get("tier", "?"))] += value
                elif family.name == "frontdesk_dlq_dispatches":
                    counts.dead_letters[(queue.value, labels.get("reason", "?"))] += value
                elif family.name == "frontdesk_diversions":
                    counts.diverted[queue.value] += value
    return counts


def _group_topics(topology: Topology, queue: QueueType) -> list[str]:
    topics = []
    for main in topology.main_topics(queue):
        topics.append(main)
        topics += [retry_topic(main, d) for d in topology.retry_delays(queue)]
    return topics


def _pending(config: dict[str, Any], topology: Topology) -> dict[str, int]:
    """Records each deployment's group has not yet committed past, per group."""
    pending: dict[str, int] = {}
    for queue, target in DEPLOYMENTS.items():
        name = _app_name(target)
        group = f"{topology.namespace}.frontdesk.{name}" if topology.namespace else name
        consumer = Consumer({**config, "group.id": group, "enable.auto.commit": False})
        try:
            parts = []
            for topic in _group_topics(topology, queue):
                meta = consumer.list_topics(topic, timeout=10).topics[topic]
                parts += [TopicPartition(topic, p) for p in meta.partitions]
            committed = {(tp.topic, tp.partition): tp.offset for tp in consumer.committed(parts)}
            left = 0
            for tp in parts:
                low, high = consumer.get_watermark_offsets(tp, timeout=10)
                done = committed[(tp.topic, tp.partition)]
                left += high - max(done if done >= 0 else low, low)
            pending[name] = left
        finally:
            consumer.close()
    return pending


def _app_name(target: str) -> str:
    module, _, attr = target.partition(":")
    app = getattr(__import__(module, fromlist=[attr]), attr)
    name: str = app.name
    return name


def _inject_bad_events(producer: Producer, topology: Topology, tenants: list[str]) -> list[str]:
    """A few events that must end in the DLQ, each for a different reason. The malformed
    ones bypass the SDK (which would refuse them) through a plain client."""
    raw = KafkaProducer(producer.config)
    pooled = topology.main_topic_for(QueueType.OPERATIONAL, tenants[0])
    key = f"{tenants[0]}/p-poison"
    raw.produce(pooled, key=key, value=b"\x00not avro", headers=[(headers.TENANT, tenants[0])])
    orphan = GuestCheckedOut.new(
        tenant_id=tenants[0], property_id="p-orphan", booking_id="B-never-made",
        guest_id="G-0", unit_id="101", checked_out_at=datetime.now(UTC),
        balance_due=Decimal("0.00"), currency="EUR",
    )  # fmt: skip
    producer.send(orphan)
    spoofed = GuestCheckedOut.new(
        tenant_id=tenants[1], property_id="p-spoof", booking_id="B-spoof", guest_id="G-0",
        unit_id="102", checked_out_at=datetime.now(UTC), balance_due=Decimal("0.00"),
        currency="EUR",
    )  # fmt: skip
    raw.produce(
        topology.main_topic_for(QueueType.OPERATIONAL, tenants[1]),
        key=spoofed.key,
        value=default_codec().encode(spoofed),
        headers=[(headers.TENANT, tenants[0]), (headers.EVENT_TYPE, spoofed.event_type)],
    )
    producer.flush()
    assert raw.flush(30) == 0, "injected records not delivered"
    return [
        "1 record that is not Avro at all (bad magic byte)",
        "1 check-out of a booking that was never created (refused by the ledger)",
        f"1 event whose tenant header ({tenants[0]}) contradicts its payload ({tenants[1]})",
    ]


def run_demo(options: DemoOptions, settings: Settings, say: Say) -> DemoReport:
    began = time.monotonic()
    options.workdir.mkdir(parents=True, exist_ok=True)
    bootstrap = ensure_cluster(settings, say)
    config: dict[str, Any] = {"bootstrap.servers": bootstrap, **settings.security_config()}
    topology = load_topology(DEMO_TOPOLOGY)
    say(f"provisioning the demo topology on {bootstrap}")
    admin = AdminClient(config)
    apply_topics(admin, plan_topics(admin, topology))

    with ExitStack() as stack:
        ota = stack.enter_context(FakeOta())
        messaging = stack.enter_context(FakeMessaging())
        ota.fail(500, times=options.ota_failures)
        messaging.fail(503, times=options.messaging_failures)
        injected = [
            f"the channel manager (OTA) answers 500 to its first {options.ota_failures} pushes",
            f"the messaging provider answers 503 to its first {options.messaging_failures}",
        ]
        env = {"FRONTDESK_OTA_URL": ota.url, "FRONTDESK_MESSAGING_URL": messaging.url}
        say(f"starting {len(DEPLOYMENTS)} worker processes")
        ports = stack.enter_context(_workers(DEMO_TOPOLOGY, bootstrap, options.workdir, env))

        demo_settings = settings.model_copy(
            update={"bootstrap_servers": bootstrap, "topology": DEMO_TOPOLOGY}
        )
        tenants = tenant_ids(topology, options.tenants)
        simulation = Simulation(tenants, options.properties, options.seed)
        produced: Counter[tuple[str, str]] = Counter()
        with Producer(demo_settings, topology=topology) as producer:
            say(f"sending {options.events} simulated PMS events")
            run(
                producer,
                simulation.events(options.events),
                on_sent=lambda e: produced.update([(e.queue.value, e.meta.tenant_id)]),
            )
            injected += _inject_bad_events(producer, topology, tenants)

        say("waiting for the workers to finish (retries included)")
        deadline = time.monotonic() + options.timeout
        pending = _pending(config, topology)
        quiet = 0
        while time.monotonic() < deadline and quiet < 3:
            time.sleep(1)
            pending = _pending(config, topology)
            quiet = quiet + 1 if not any(pending.values()) else 0
            say(f"waiting for the workers: {sum(pending.values())} records left")
        counts = _scrape(ports)
        ota_pushes = len([r for r in ota.requests if r.status < 300 and "/_control" not in r.path])
        messages_sent = len(messaging.delivered)
    return DemoReport(
        produced=produced,
        injected=injected,
        counts=counts,
        drained=quiet >= 3,
        elapsed=time.monotonic() - began,
        pending=pending,
        ota_pushes=ota_pushes,
        messages_sent=messages_sent,
        bootstrap=bootstrap,
    )


__all__ = ["DEMO_TOPOLOGY", "DemoOptions", "DemoReport", "WorkerCounts", "run_demo"]
