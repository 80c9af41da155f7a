"""A small simulator run: every event it reports is confirmed and readable from Kafka.

Contract: `run()` returns only once every event is delivered; the topics then hold exactly
the simulated events (by id), each on the topic its tenant and queue route to, including
the dedicated tenant's own topics.
"""

from __future__ import annotations

from collections import Counter

from frontdesk import headers as h
from frontdesk.producer import Producer
from frontdesk.queues import QueueType
from producers.simulator import Simulation, run, tenant_ids
from tests.support.kafka import Cluster
from tests.support.producing import DEDICATED, create_main_topics, topology


def test_small_simulation_is_entirely_delivered(kafka: Cluster) -> None:
    topo = topology("sim")
    create_main_topics(kafka, topo)
    tenants = tenant_ids(topo, 3)
    assert tenants[0] == DEDICATED
    events = list(Simulation(tenants, 3, seed=99).events(400))
    with Producer(config=kafka.config, topology=topo) as producer:
        summary = run(producer, iter(events))
        assert len(producer) == 0  # nothing left unconfirmed when run() returns
    assert summary.total == 400
    assert summary.by_tenant[DEDICATED] > 0

    expected = {
        str(e.meta.event_id): topo.main_topic_for(e.queue, e.meta.tenant_id) for e in events
    }
    seen: dict[str, str] = {}
    for queue in (QueueType.OPERATIONAL, QueueType.AUTOMATION, QueueType.SYNC):
        for topic in topo.main_topics(queue):
            want = Counter(expected.values())[topic]
            if want == 0:
                continue
            for msg in kafka.drain(topic, expected=want):
                seen[h.get(msg.headers(), h.EVENT_ID) or ""] = msg.topic()
    assert seen == expected
