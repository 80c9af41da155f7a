"""Contract: the console's lag figures survive broker restarts. While the broker is away the
overview says "unavailable"; once it is back, the exact lag again; the console process
(here: the test's) never dies.

The console measures through `frontdesk.isolated.Isolated`, because librdkafka's admin
client can abort its process when a group request loses its connection
(docs/reliability.md, Finding 8). The provider is asked without its cache (``ttl=0``)
every 0.2 s while the scenario's own broker is SIGKILLed and restarted ``RESTARTS`` times;
how many measuring children died is reported, not asserted (the abort is a race).
"""

from __future__ import annotations

import time

from confluent_kafka import TopicPartition

from frontdesk.broker import LocalBroker
from frontdesk.lag import LagProvider
from frontdesk.naming import main_topic
from frontdesk.queues import QueueType
from tests.reliability import report
from tests.reliability.harness import cluster_of
from tests.support.kafka import unique

RESTARTS = 2
WAITING = 5


def test_console_lag_survives_broker_restarts(own_broker: LocalBroker) -> None:
    began = time.monotonic()
    cluster = cluster_of(own_broker)
    ns = unique("lagrestart").replace("-", "")
    topic = cluster.create_topic(main_topic("operational", None, ns), partitions=1)
    cluster.produce(topic, [(b"acme/p1", b"v")] * WAITING)
    consumer = cluster.consumer(f"{ns}.frontdesk.housekeeping")
    consumer.commit(offsets=[TopicPartition(topic, 0, 0)], asynchronous=False)
    consumer.close()

    provider = LagProvider(cluster.config, ns, ttl=0)

    def lag() -> str:
        return dict(provider.metrics(QueueType.OPERATIONAL, None))["consumer lag"]

    seen: set[str] = set()
    try:
        assert lag() == str(WAITING)
        for _ in range(RESTARTS):
            own_broker.kill()
            down_until = time.monotonic() + 3
            while time.monotonic() < down_until:
                seen.add(lag())
                time.sleep(0.2)
            own_broker.start(timeout=120)
            deadline = time.monotonic() + 90
            while (value := lag()) != str(WAITING):
                seen.add(value)
                assert time.monotonic() < deadline, f"lag not back after the restart: {value}"
                time.sleep(0.2)
    finally:
        provider.close()
    assert seen <= {"unavailable", str(WAITING)}, seen

    report.record(
        "console_lag_broker_restarts",
        {
            "restarts": RESTARTS,
            "unavailable_seen": "unavailable" in seen,
            "runtime_s": round(time.monotonic() - began, 1),
        },
    )
