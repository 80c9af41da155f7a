"""Held keys without a broker: the state records, resolution by status and by the DLQ state
topic's contract, the ``fd-holds`` header, and Retry-After picking a tier."""

from __future__ import annotations

import json

from frontdesk import headers
from frontdesk.queues import QueueType
from frontdesk.topology.model import parse_topology
from frontdesk.worker.holds import (
    Hold,
    HolderStatus,
    HoldTable,
    hold_key,
    holder_key,
    holds_of,
    with_hold,
)
from frontdesk.worker.policy import RetryPolicy

TOPIC = "ns.pms.operational"
"""With a table of namespace ``ns``, a pooled topic: its state is in the shared topics."""


def held(table: HoldTable, key: bytes = b"acme/p1", event_id: str = "e1") -> Hold:
    return table.create(
        TOPIC, 3, key, event_id=event_id, event_type="BookingCreated", stage="retry"
    )


def test_a_hold_record_round_trips_and_is_keyed_by_group_topic_and_key() -> None:
    table = HoldTable("ns.frontdesk.app")
    hold = held(table)
    hold.parked, hold.cursor = 2, 17
    data = json.loads(hold.to_json())
    assert data["version"] == 1
    assert (data["topic"], data["partition"], data["key"], data["stage"]) == (
        TOPIC, 3, "acme/p1", "retry",
    )  # fmt: skip
    again = Hold.from_record(data)
    assert (again.hold_id, again.parked, again.cursor) == (hold.hold_id, 2, 17)
    assert hold.state_key == hold_key("ns.frontdesk.app", TOPIC, "acme/p1")
    assert table.get(TOPIC, 3, b"acme/p1") is hold
    assert table.get(TOPIC, 2, b"acme/p1") is None


def test_the_holders_success_resolves_only_for_the_current_holder() -> None:
    table = HoldTable("g")
    hold = held(table)
    stale = HolderStatus(hold.hold_id, "an-older-holder", "succeeded", 1, "g")
    assert table.apply_state(holder_key(hold.hold_id), stale.to_json()) is hold
    assert not table.resolved(hold)
    status = HolderStatus(hold.hold_id, "e1", "succeeded", 2, "fallback")
    table.apply_state(holder_key(hold.hold_id), status.to_json())
    assert table.resolved(hold)


def test_a_dlq_release_or_discard_resolves_by_event_id_and_key() -> None:
    table = HoldTable("g")
    hold = held(table)
    record = {"version": 1, "action": "redrive", "key": "acme/p1", "event_id": "e1"}
    assert table.apply_dlq_state(json.dumps(record).encode()) == []
    record["action"] = "release"
    assert table.apply_dlq_state(json.dumps({**record, "key": "acme/p2"}).encode()) == []
    assert table.apply_dlq_state(json.dumps(record).encode()) == [hold]
    assert table.resolved(hold)
    assert hold.gave_up
    assert table.apply_dlq_state(None) == []


def test_a_redrive_to_another_topic_gives_the_key_up_too() -> None:
    table = HoldTable("g")
    hold = held(table)
    back = {"action": "redrive", "key": "acme/p1", "event_id": "e1", "original_topic": TOPIC}
    assert table.apply_dlq_state(json.dumps({**back, "redriven_to": TOPIC}).encode()) == []
    away = {**back, "redriven_to": "ns.pms.fallback"}
    assert table.apply_dlq_state(json.dumps(away).encode()) == [hold]
    assert table.resolved(hold)


def test_a_tenants_state_topic_reaches_only_that_tenants_holds() -> None:
    """A dedicated tenant may write its own state topics: what it writes there must not
    hold, resolve or release a pooled key or another tenant's."""
    table = HoldTable("g", "ns")
    pooled = held(table)  # on ns.pms.operational: its state is in the shared topics
    own = table.create(
        "ns.tenant.acme.operational", 0, b"acme/p1", event_id="e1",
        event_type="BookingCreated", stage="dlq",
    )  # fmt: skip
    success = HolderStatus(pooled.hold_id, "e1", "succeeded", 1, "g").to_json()
    assert table.apply_state(holder_key(pooled.hold_id), success, "acme") is None
    assert not table.resolved(pooled)
    release = json.dumps({"action": "release", "key": "acme/p1", "event_id": "e1"}).encode()
    assert table.apply_dlq_state(release, "acme") == [own]
    assert table.resolved(own)
    assert not table.resolved(pooled), "acme's release names the key, not the pooled hold"
    forged = Hold("g", TOPIC, 1, "other/p1", "h9", "e9", "BookingCreated", "dlq", 1)
    table.apply_state(forged.state_key, forged.to_json(), "acme")
    assert table.restore(TOPIC, 1) == []
    table.apply_state(forged.state_key, forged.to_json(), None)
    assert [h.key for h in table.restore(TOPIC, 1)] == ["other/p1"]


def test_holds_of_other_groups_are_not_restored() -> None:
    table = HoldTable("mine")
    other = Hold("theirs", TOPIC, 0, "acme/p9", "h9", "e9", "BookingCreated", "dlq", 1)
    mine = Hold("mine", TOPIC, 0, "acme/p1", "h1", "e1", "BookingCreated", "releasing", 1)
    table.apply_state(other.state_key, other.to_json())
    table.apply_state(mine.state_key, mine.to_json())
    restored = table.restore(TOPIC, 0)
    assert [h.key for h in restored] == ["acme/p1"]
    assert restored[0].stage == "retry", "a release in progress restarts with the new owner"
    table.apply_state(mine.state_key, None)
    assert table.stored == {}


def test_release_leaves_a_tombstone_to_write() -> None:
    table = HoldTable("g")
    hold = held(table)
    table.written([(hold, hold.dirty)])
    assert table.dirty() == []
    table.remove(hold)
    assert table.dirty() == [hold]
    assert table.get(TOPIC, 3, b"acme/p1") is None
    table.written([(hold, hold.dirty)])
    assert table.dirty() == []
    assert table.owned_count() == {}


def test_fd_holds_header_lists_every_hold_once() -> None:
    rh = with_hold([(headers.TENANT, b"acme")], "h1")
    rh = with_hold(rh, "h2")
    rh = with_hold(rh, "h1")
    assert holds_of(rh) == ["h1", "h2"]
    assert holds_of([]) == []


def test_retry_after_moves_up_to_a_tier_at_least_that_long() -> None:
    topology = parse_topology(
        "queues:\n"
        + "".join(f"  {q.value}: {{retry: {{tiers: [10s, 1m, 10m]}}}}\n" for q in QueueType)
    )
    policy = RetryPolicy().resolve(QueueType.SYNC, topology)
    assert policy.tier_after(1, None) == "10s"
    assert policy.tier_after(1, 30_000) == "1m"
    assert policy.tier_after(1, 60_000) == "1m"
    assert policy.tier_after(2, 5_000) == "1m", "never earlier than the escalation"
    assert policy.tier_after(1, 3_600_000) == "10m", "the longest tier at most"
    assert policy.tier_after(4, 1000) is None
