"""The simulator is reproducible by seed and tells causally ordered booking stories."""

from __future__ import annotations

from collections import defaultdict

from frontdesk.codec import encode
from frontdesk.events import BookingCreated, Event
from frontdesk.topology.model import parse_topology
from producers.simulator import Simulation, tenant_ids

LIFECYCLE = [
    "BookingCreated",
    "BookingModified",
    "GuestCheckedIn",
    "GuestCheckedOut",
    "CleaningTaskScheduled",
    "CleaningTaskCompleted",
]


def _events(seed: int, count: int = 1500) -> list[Event]:
    return list(Simulation(["grand-hotel", "acme", "sim-1"], 4, seed).events(count))


def test_same_seed_same_bytes_different_seed_different_events() -> None:
    first, again, other = _events(11), _events(11), _events(12)
    assert [encode(e) for e in first] == [encode(e) for e in again]
    assert [e.meta.event_id for e in first] != [e.meta.event_id for e in other]


def test_booking_lifecycles_are_causally_linked_and_in_order() -> None:
    events = _events(5, 3000)
    by_id = {str(e.meta.event_id): e for e in events}
    seen_at = {str(e.meta.event_id): n for n, e in enumerate(events)}
    stories: dict[str, list[str]] = defaultdict(list)
    for n, event in enumerate(events):
        if isinstance(event, BookingCreated):
            assert event.meta.causation_id is None
            stories[str(event.meta.event_id)].append(event.event_type)
            continue
        if event.meta.causation_id is None:
            continue
        cause = by_id[event.meta.causation_id]
        assert seen_at[event.meta.causation_id] < n  # a cause always comes first
        assert cause.key == event.key  # and concerns the same property
        assert cause.meta.correlation_id == event.meta.correlation_id
        stories[event.meta.correlation_id].append(event.event_type)
    complete = 0
    for story in stories.values():
        steps = [s for s in story if s in LIFECYCLE]
        assert steps == sorted(steps, key=LIFECYCLE.index)
        complete += steps[-1] == "CleaningTaskCompleted"
    assert complete > 10


def test_traffic_covers_every_queue_type_and_many_event_types() -> None:
    events = _events(3, 2000)
    assert {e.queue.value for e in events} == {"operational", "automation", "sync"}
    assert len({e.event_type for e in events}) >= 14


def test_tenants_are_the_topology_s_dedicated_first_then_generated() -> None:
    topo = parse_topology(
        """
queues: {operational: {}, automation: {}, sync: {}, fallback: {}}
tenants: [{id: small, mode: pooled}, {id: vip, mode: dedicated}]
"""
    )
    assert tenant_ids(topo, 4) == ["vip", "small", "sim-tenant-000", "sim-tenant-001"]
    assert tenant_ids(topo, 1) == ["vip"]
