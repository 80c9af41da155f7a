"""The demo: the whole frontdesk story on one machine, in about a minute.

``frontdesk demo`` (and ``make demo``) runs it: the embedded Kafka broker (or the cluster in
``FRONTDESK_BOOTSTRAP_SERVERS``), the demo topology (``deploy/topology.demo.yaml``, retry
tiers of seconds) in a namespace of its own for each run (``demo-<time>``, so a run's
figures are its own; the previous run's topics are deleted), the four consumer deployments
as real worker processes, a fake channel manager (OTA) and messaging provider that are down
for a while, simulated PMS traffic, and a few deliberately bad events. It waits until every
worker group has committed to the end of its topics, reads the workers' own Prometheus
counters, and prints what happened: handled, retried per tier, dead-lettered with reasons, diverted,
held keys, per tenant.

Everything it reports is measured from the running system; the only things it decides are
the traffic (seeded) and the trouble it injects, which it lists before it starts.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
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
from confluent_kafka import Producer as KafkaProducer
from confluent_kafka.admin import AdminClient
from prometheus_client.parser import text_string_to_metric_families

from consumers.fakes.messaging import FakeMessaging
from consumers.fakes.ota import FakeOta
from frontdesk import headers
from frontdesk.admin.groups import describe_group
from frontdesk.admin.topics import apply_topics, plan_topics
from frontdesk.codec import default_codec
from frontdesk.connection import default_broker
from frontdesk.events import GuestCheckedOut
from frontdesk.lag import measure_lag
from frontdesk.naming import retry_topic
from frontdesk.producer import Producer
from frontdesk.queues import QueueType
from frontdesk.settings import Settings
from frontdesk.topology import Topology, load_topology
from frontdesk.worker import HeldKey, held_keys
from producers.simulator import Simulation, run, tenant_ids

REPO = Path(__file__).resolve().parents[1]
DEMO_TOPOLOGY = REPO / "deploy" / "topology.demo.yaml"
"""The template of each run's topology; its ``namespace: demo`` becomes ``demo-<time>``."""

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
    ota_outage: float = 20.0
    """Seconds the fake OTA answers 500 from the start: retries, then its circuit breaker
    opens and pushes are diverted to the fallback queue until it is back."""
    messaging_outage: float = 5.0
    timeout: float = 180.0
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
    topology_file: Path
    held: list[HeldKey]
    """Keys whose ordered events wait behind a dead-lettered one, until an operator acts."""


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
                    if labels.get("outcome") == "divert":
                        counts.diverted[queue.value] += value
                    else:
                        counts.failed_attempts[queue.value] += value
                elif family.name == "frontdesk_retries":
                    counts.retries[(queue.value, labels.get("tier", "?"))] += value
                elif family.name == "frontdesk_dlq_dispatches":
                    counts.dead_letters[(queue.value, labels.get("reason", "?"))] += value
    return counts


def _group_topics(topology: Topology, queue: QueueType) -> list[str]:
    topics = []
    for main in topology.main_topics(queue):
        topics.append(main)
        topics += [retry_topic(main, d) for d in topology.retry_delays(queue)]
    return topics


def _pending(admin: AdminClient, config: dict[str, Any], topology: Topology) -> dict[str, int]:
    """Records each deployment's group has yet to handle, per app: its main topics and
    retry tiers, including tiers it has not committed on yet; and the keys still held
    behind an event that will run again (their parked events replay once it succeeds,
    after its offsets are committed). Keys held behind a dead letter wait for an operator,
    so they do not count."""
    pending: dict[str, int] = {}
    for queue, target in DEPLOYMENTS.items():
        name = _app_name(target)
        report = measure_lag(
            admin, config, [_group(topology, target)], namespace=topology.namespace, sample=1,
            topics=_group_topics(topology, queue),
        )  # fmt: skip
        pending[name] = sum(g.lag for g in report.groups)
    pending["held keys"] = sum(1 for h in held_keys(config, topology) if h.stage != "dlq")
    return pending


def _group(topology: Topology, target: str) -> str:
    name = _app_name(target)
    return f"{topology.namespace}.frontdesk.{name}" if topology.namespace else name


def _wait_until_joined(admin: AdminClient, topology: Topology, timeout: float) -> None:
    """Block until every deployment's group is stable with a member, so the traffic and the
    outages start when the workers are there to meet them (a cold start takes seconds)."""
    groups = [_group(topology, target) for target in DEPLOYMENTS.values()]
    deadline = time.monotonic() + timeout
    while True:
        described = [describe_group(admin, g, 10) for g in groups]
        if all(d is not None and d.members and d.state.name == "STABLE" for d in described):
            return
        if time.monotonic() > deadline:
            raise TimeoutError(f"the workers did not join their groups within {timeout:.0f}s")
        time.sleep(0.5)


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


def _fresh_run(admin: AdminClient, workdir: Path, say: Say) -> tuple[Topology, Path]:
    """A namespace and working directory for this run; the previous run's topics, stores and
    logs are removed first (only ``demo-*`` namespaces: nothing else is touched)."""
    old = [t for t in admin.list_topics(timeout=30).topics if t.startswith("demo-")]
    if old:
        say(f"deleting {len(old)} topics of the previous demo run")
        for future in admin.delete_topics(old, operation_timeout=30).values():
            future.result()
    shutil.rmtree(workdir, ignore_errors=True)
    workdir.mkdir(parents=True)
    text = DEMO_TOPOLOGY.read_text().replace(
        "namespace: demo", f"namespace: demo-{datetime.now(UTC):%Y%m%d%H%M%S}"
    )
    topology_file = workdir / "topology.yaml"
    topology_file.write_text(text)
    return load_topology(topology_file), topology_file


def _outage(server: FakeOta | FakeMessaging, status: int, seconds: float) -> threading.Timer:
    """Make ``server`` answer ``status`` to everything for ``seconds``, then recover."""
    server.fail(status)
    timer = threading.Timer(seconds, server.recover)
    timer.daemon = True
    timer.start()
    return timer


def run_demo(options: DemoOptions, settings: Settings, say: Say) -> DemoReport:
    began = time.monotonic()
    bootstrap = ensure_cluster(settings, say)
    config: dict[str, Any] = {"bootstrap.servers": bootstrap, **settings.security_config()}
    admin = AdminClient(config)
    topology, topology_file = _fresh_run(admin, options.workdir, say)
    say(f"provisioning the demo topology ({topology.namespace}.*) on {bootstrap}")
    apply_topics(admin, plan_topics(admin, topology))

    with ExitStack() as stack:
        ota = stack.enter_context(FakeOta())
        messaging = stack.enter_context(FakeMessaging())
        env = {"FRONTDESK_OTA_URL": ota.url, "FRONTDESK_MESSAGING_URL": messaging.url}
        say(f"starting {len(DEPLOYMENTS)} worker processes")
        ports = stack.enter_context(_workers(topology_file, bootstrap, options.workdir, env))
        _wait_until_joined(admin, topology, timeout=90)
        stack.callback(_outage(ota, 500, options.ota_outage).cancel)
        stack.callback(_outage(messaging, 503, options.messaging_outage).cancel)
        injected = [
            f"the channel manager (OTA) is down (HTTP 500) for the first {options.ota_outage:g}s",
            f"the messaging provider is down (HTTP 503) for the first "
            f"{options.messaging_outage:g}s",
        ]

        demo_settings = settings.model_copy(
            update={"bootstrap_servers": bootstrap, "topology": topology_file}
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
        pending = _pending(admin, config, topology)
        quiet = 0
        while time.monotonic() < deadline and quiet < 3:
            time.sleep(1)
            pending = _pending(admin, config, topology)
            quiet = quiet + 1 if not any(pending.values()) else 0
            held = pending.get("held keys", 0)
            left = sum(pending.values()) - held
            say(f"waiting for the workers: {left} records left, {held} keys held")
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
        topology_file=topology_file,
        held=held_keys(config, topology),
    )


__all__ = ["DEMO_TOPOLOGY", "DemoOptions", "DemoReport", "WorkerCounts", "run_demo"]
