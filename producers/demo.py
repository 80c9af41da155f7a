"""The demo: the whole frontdesk story on one machine, in about a minute.

``frontdesk demo`` (and ``make demo``) runs it: the embedded Kafka broker (or the cluster in
``FRONTDESK_BOOTSTRAP_SERVERS``), the demo topology (``deploy/topology.demo.yaml``, retry
tiers of seconds) in a namespace of its own for each run (``demo-<time>``, so a run's
figures are its own; the previous run's topics are deleted), the four consumer deployments
as real worker processes, a fake channel manager (OTA) and messaging provider that are down
for a while, simulated PMS traffic, and a few deliberately bad events. It waits until every
worker group has committed to the end of its topics, reads the workers' own Prometheus
counters, and prints what became of every event it produced, per queue and per tenant:
handled, dead-lettered, diverted and then handled by the fallback deployment, or still held
behind a dead letter; with retries per tier, dead letters by reason, held keys, and what the
fake OTA and messaging provider received.

Everything it reports is measured from the running system (the workers' metrics, the
broker, the deployments' store and the fakes); the only things it decides are the traffic
(seeded) and the trouble it injects, which it lists before it starts. `reconcile` checks
that the measured outcomes add up to what was produced.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import sqlite3
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
from confluent_kafka import KafkaError, KafkaException
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
from frontdesk.events import EVENT_TYPES, GuestCheckedOut, NotificationRequested
from frontdesk.lag import measure_lag
from frontdesk.naming import parse_topic, retry_topic
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
    workdir: Path | None = None
    """Logs, the deployments' store and this run's topology; default
    ``$FRONTDESK_HOME/demo``."""


Key = tuple[str, str, str]
"""(the deployment's queue, tenant, event type), as the workers' metrics label them."""


@dataclass
class WorkerCounts:
    """What the workers' Prometheus endpoints said, summed over the deployments."""

    handled: Counter[Key] = field(default_factory=Counter)
    dead_lettered: Counter[Key] = field(default_factory=Counter)
    diverted: Counter[Key] = field(default_factory=Counter)
    failed_attempts: Counter[str] = field(default_factory=Counter)  # queue
    retries: Counter[tuple[str, str]] = field(default_factory=Counter)  # (queue, tier)
    dead_letters: Counter[tuple[str, str]] = field(default_factory=Counter)  # (queue, reason)


@dataclass
class Outcomes:
    """What became of the events of one queue (or tenant), each produced event counted once:
    handled by its queue's deployment; diverted (its dependency was down) and then handled
    by the fallback deployment; dead-lettered (by its deployment or by the fallback); or
    parked behind a held key whose event was dead-lettered, until an operator redrives or
    releases it."""

    produced: int = 0
    handled: int = 0
    via_fallback: int = 0
    dlq: int = 0
    held: int = 0

    @property
    def accounted(self) -> int:
        return self.handled + self.via_fallback + self.dlq + self.held

    @property
    def unaccounted(self) -> int:
        """Produced but in none of the outcomes: still on its way (0 once drained)."""
        return self.produced - self.accounted

    def add(self, other: Outcomes) -> None:
        self.produced += other.produced
        self.handled += other.handled
        self.via_fallback += other.via_fallback
        self.dlq += other.dlq
        self.held += other.held

    def row(self) -> list[int]:
        return [
            self.produced, self.handled, self.via_fallback, self.dlq, self.held,
            self.unaccounted,
        ]  # fmt: skip


@dataclass
class Reconciliation:
    """`reconcile`'s answer: outcomes per (queue, tenant), and the fallback's own books."""

    cells: dict[tuple[str, str], Outcomes]
    diverted: Counter[str]
    """Events each queue's deployment diverted to the fallback queue (by origin queue)."""
    fallback_done: Counter[str]
    """Diverted events the fallback deployment handled or dead-lettered (by origin queue)."""

    def by_queue(self) -> dict[str, Outcomes]:
        return self._sum(0)

    def by_tenant(self) -> dict[str, Outcomes]:
        return self._sum(1)

    def _sum(self, axis: int) -> dict[str, Outcomes]:
        out: dict[str, Outcomes] = {}
        for key, cell in sorted(self.cells.items()):
            out.setdefault(key[axis], Outcomes()).add(cell)
        return out


@dataclass(frozen=True)
class Messaging:
    """The messaging side of the story, from the fake provider and the deployments' store."""

    requested: int
    """NotificationRequested events produced."""
    delivered: int
    """Messages the fake provider accepted (each once: it honours idempotency keys)."""
    refused_during_outage: int
    """Calls it answered with an error while it was down."""
    first_delivery_after: float | None
    """Seconds from the start of the outage to the first delivery."""
    statuses: dict[str, int]
    """Notifications in the message log by status (sent, deferred, scheduled, refused)."""
    scheduled_due: tuple[str, str] | None
    """When the scheduled ones fall due (earliest, latest send_at), if any."""


@dataclass
class DemoReport:
    produced: Counter[Key]
    injected: list[str]
    counts: WorkerCounts
    drained: bool
    elapsed: float
    pending: dict[str, int]
    ota_pushes: int
    messaging: Messaging
    bootstrap: str
    topology_file: Path
    namespace: str | None
    held: list[HeldKey]
    """Keys whose ordered events wait behind a dead-lettered one, until an operator acts."""

    def reconcile(self) -> Reconciliation:
        return reconcile(self.produced, self.counts, self.held, self.namespace)


def origin_queue(deployment: str, event_type: str) -> str:
    """The queue an event was produced to: its deployment's, unless the fallback deployment
    handled it (then its type's queue; the fallback accepts every queue's types)."""
    if deployment != QueueType.FALLBACK.value:
        return deployment
    model = EVENT_TYPES.get(event_type)
    return model.queue.value if model is not None else deployment


def reconcile(
    produced: Counter[Key], counts: WorkerCounts, held: list[HeldKey], namespace: str | None
) -> Reconciliation:
    """Every produced event in exactly one outcome, per (queue, tenant).

    ``produced`` is keyed (queue, tenant, event type) like the metrics; held keys count
    the events parked behind them (the holder itself is a dead letter, or still running).
    """
    cells: dict[tuple[str, str], Outcomes] = {}

    def cell(queue: str, tenant: str) -> Outcomes:
        return cells.setdefault((queue, tenant), Outcomes())

    fallback = QueueType.FALLBACK.value
    diverted: Counter[str] = Counter()
    done: Counter[str] = Counter()
    for (queue, tenant, _type), n in produced.items():
        cell(queue, tenant).produced += n
    for (deployment, tenant, event_type), n in counts.handled.items():
        queue = origin_queue(deployment, event_type)
        if deployment == fallback:
            cell(queue, tenant).via_fallback += n
            done[queue] += n
        else:
            cell(queue, tenant).handled += n
    for (deployment, tenant, event_type), n in counts.dead_lettered.items():
        queue = origin_queue(deployment, event_type)
        cell(queue, tenant).dlq += n
        if deployment == fallback:
            done[queue] += n
    for (deployment, _tenant, _type), n in counts.diverted.items():
        diverted[deployment] += n
    for hold in held:
        info = parse_topic(hold.topic, namespace)
        queue = info.queue.value if info is not None else hold.topic
        cell(queue, hold.tenant).held += hold.parked
    return Reconciliation(cells, diverted, done)


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


def store_url(workdir: Path) -> str:
    """The deployments' one store, as in production: the fallback deployment keeps deferred
    pushes in the sync mirror and deferred messages in the automation message log."""
    return f"sqlite:///{workdir / 'consumers.db'}"


DRAIN_INTERVAL = 1.0
"""Seconds between passes of the fallback drain loop (``python -m consumers.fallback.drain``)."""


@contextmanager
def _workers(
    topology_file: Path, bootstrap: str, workdir: Path, extra_env: dict[str, str]
) -> Iterator[dict[QueueType, int]]:
    """Start one worker process per deployment, and the fallback's drain loop (which sends
    the message outbox and pushes pending channel state once a dependency is back); yield
    the workers' metrics ports; stop them gracefully (SIGTERM drains and commits)."""
    procs: list[subprocess.Popen[bytes]] = []
    ports: dict[QueueType, int] = {}
    env = {
        **os.environ,
        **extra_env,
        "FRONTDESK_BOOTSTRAP_SERVERS": bootstrap,
        "FRONTDESK_TOPOLOGY": str(topology_file),
        "FRONTDESK_STORE_URL": store_url(workdir),
    }

    def start(name: str, cmd: list[str]) -> None:
        with (workdir / f"{name}.log").open("wb") as log:
            procs.append(
                subprocess.Popen(cmd, env=env, stdout=log, stderr=subprocess.STDOUT, cwd=REPO)
            )

    try:
        for queue, target in DEPLOYMENTS.items():
            port = ports[queue] = _free_port()
            cmd = [sys.executable, "-m", "frontdesk", "worker", target]
            start(
                f"worker-{queue.value}",
                [*cmd, "--metrics-port", str(port), "--log-level", "WARNING"],
            )
        if QueueType.FALLBACK in DEPLOYMENTS:
            drain = [sys.executable, "-m", "consumers.fallback.drain"]
            start("fallback-drain", [*drain, "--interval", str(DRAIN_INTERVAL)])
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
                key = (queue.value, labels.get("tenant", "?"), labels.get("event_type", "?"))
                if family.name == "frontdesk_events_handled":
                    counts.handled[key] += value
                elif family.name == "frontdesk_events_failed":
                    outcome = labels.get("outcome")
                    if outcome == "divert":
                        counts.diverted[key] += value
                    elif outcome == "dlq":
                        counts.dead_lettered[key] += value
                    if outcome != "divert":
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


def _pending(
    admin: AdminClient, config: dict[str, Any], topology: Topology, workdir: Path
) -> dict[str, int]:
    """Records each deployment's group has yet to handle, per app: its main topics and
    retry tiers, including tiers it has not committed on yet; the keys still held
    behind an event that will run again (their parked events replay once it succeeds,
    after its offsets are committed); and the messages waiting in the fallback's outbox
    for the drain loop. Keys held behind a dead letter wait for an operator, so they do
    not count."""
    pending: dict[str, int] = {}
    for queue, target in DEPLOYMENTS.items():
        name = _app_name(target)
        report = measure_lag(
            admin, config, [_group(topology, target)], namespace=topology.namespace, sample=1,
            topics=_group_topics(topology, queue),
        )  # fmt: skip
        pending[name] = sum(g.lag for g in report.groups)
    pending["held keys"] = sum(1 for h in held_keys(config, topology) if h.stage != "dlq")
    pending["messages in the outbox"] = _message_log(workdir).get("deferred", 0)
    return pending


def _message_log(workdir: Path) -> dict[str, int]:
    """Notifications in the deployments' message log, by status (empty before the first)."""
    statuses, _due = _messages(workdir)
    return statuses


def _messages(workdir: Path) -> tuple[dict[str, int], tuple[str, str] | None]:
    """The message log by status, and when its scheduled messages fall due."""
    path = workdir / "consumers.db"
    if not path.exists():
        return {}, None
    with contextlib.closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=10)) as db:
        try:
            rows = db.execute("SELECT status, count(*) FROM messages GROUP BY status").fetchall()
            due = db.execute(
                "SELECT min(send_at), max(send_at) FROM messages WHERE status = 'scheduled'"
            ).fetchone()
        except sqlite3.OperationalError:  # the automation deployment has not migrated yet
            return {}, None
    return dict(rows), (due if due and due[0] else None)


def _group(topology: Topology, target: str) -> str:
    name = _app_name(target)
    return f"{topology.namespace}.frontdesk.{name}" if topology.namespace else name


def _wait_until_joined(admin: AdminClient, topology: Topology, timeout: float) -> None:
    """Block until every deployment's group is stable with a member, so the traffic and the
    outages start when the workers are there to meet them (a cold start takes seconds)."""
    groups = [_group(topology, target) for target in DEPLOYMENTS.values()]
    deadline = time.monotonic() + timeout
    while True:
        try:
            described = [describe_group(admin, g, 10) for g in groups]
        except KafkaException as exc:
            # A broker that just started is still loading its group coordinator
            # (COORDINATOR_LOAD_IN_PROGRESS): retriable, so not joined yet.
            if not (exc.args and _coordinator_not_ready(exc.args[0])):
                raise
            described = [None]
        if all(d is not None and d.members and d.state.name == "STABLE" for d in described):
            return
        if time.monotonic() > deadline:
            raise TimeoutError(f"the workers did not join their groups within {timeout:.0f}s")
        time.sleep(0.5)


def _coordinator_not_ready(error: KafkaError) -> bool:
    return error.retriable() or error.code() in (
        KafkaError.COORDINATOR_LOAD_IN_PROGRESS,
        KafkaError.COORDINATOR_NOT_AVAILABLE,
        KafkaError.NOT_COORDINATOR,
    )


def _app_name(target: str) -> str:
    module, _, attr = target.partition(":")
    app = getattr(__import__(module, fromlist=[attr]), attr)
    name: str = app.name
    return name


def _inject_bad_events(
    producer: Producer, topology: Topology, tenants: list[str], produced: Counter[Key]
) -> list[str]:
    """A few events that must end in the DLQ, each for a different reason. The malformed
    ones bypass the SDK (which would refuse them) through a plain client. Each is counted
    in ``produced`` under the tenant the worker will attribute it to: the payload's, or
    the header's when there is no payload to read."""
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
    operational = QueueType.OPERATIONAL.value
    produced[(operational, tenants[0], "unknown")] += 1
    produced[(operational, tenants[0], orphan.event_type)] += 1
    produced[(operational, tenants[1], spoofed.event_type)] += 1
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
    workdir = options.workdir or settings.home / "demo"
    bootstrap = ensure_cluster(settings, say)
    config: dict[str, Any] = {"bootstrap.servers": bootstrap, **settings.security_config()}
    admin = AdminClient(config)
    topology, topology_file = _fresh_run(admin, workdir, say)
    say(f"provisioning the demo topology ({topology.namespace}.*) on {bootstrap}")
    apply_topics(admin, plan_topics(admin, topology))

    with ExitStack() as stack:
        ota = stack.enter_context(FakeOta())
        messaging = stack.enter_context(FakeMessaging())
        env = {"FRONTDESK_OTA_URL": ota.url, "FRONTDESK_MESSAGING_URL": messaging.url}
        say(f"starting {len(DEPLOYMENTS)} worker processes")
        ports = stack.enter_context(_workers(topology_file, bootstrap, workdir, env))
        _wait_until_joined(admin, topology, timeout=90)
        outage_began = time.time()
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
        produced: Counter[Key] = Counter()
        with Producer(demo_settings, topology=topology) as producer:
            say(f"sending {options.events} simulated PMS events")
            run(
                producer,
                simulation.events(options.events),
                on_sent=lambda e: produced.update(
                    [(e.queue.value, e.meta.tenant_id, e.event_type)]
                ),
            )
            injected += _inject_bad_events(producer, topology, tenants, produced)

        say("waiting for the workers to finish (retries included)")
        deadline = time.monotonic() + options.timeout
        pending = _pending(admin, config, topology, workdir)
        quiet = 0
        while time.monotonic() < deadline and quiet < 3:
            time.sleep(1)
            pending = _pending(admin, config, topology, workdir)
            quiet = quiet + 1 if not any(pending.values()) else 0
            held = pending.get("held keys", 0)
            left = sum(pending.values()) - held
            say(f"waiting for the workers: {left} records left, {held} keys held")
        counts = _scrape(ports)
        ota_pushes = len([r for r in ota.requests if r.status < 300 and "/_control" not in r.path])
        statuses, due = _messages(workdir)
        calls = [r for r in messaging.requests if "/_control" not in r.path]
        delivered = [r.at for r in calls if r.status < 300]
        report_messaging = Messaging(
            requested=sum(
                n for (_q, _t, e), n in produced.items() if e == NotificationRequested.event_type
            ),
            delivered=len(messaging.delivered),
            refused_during_outage=sum(1 for r in calls if r.status >= 500),
            first_delivery_after=min(delivered) - outage_began if delivered else None,
            statuses=statuses,
            scheduled_due=due,
        )
    return DemoReport(
        produced=produced,
        injected=injected,
        counts=counts,
        drained=quiet >= 3,
        elapsed=time.monotonic() - began,
        pending=pending,
        ota_pushes=ota_pushes,
        messaging=report_messaging,
        bootstrap=bootstrap,
        topology_file=topology_file,
        namespace=topology.namespace,
        held=held_keys(config, topology),
    )


__all__ = [
    "DEMO_TOPOLOGY",
    "DemoOptions",
    "DemoReport",
    "Messaging",
    "Outcomes",
    "Reconciliation",
    "WorkerCounts",
    "reconcile",
    "run_demo",
]
