"""Tenant fairness: a tenant over its cap is passed over while others have ready work, never
at the price of a key's order, and never leaving a slot idle."""

from __future__ import annotations

from frontdesk.worker.fairness import TenantQueues, tenant_of
from frontdesk.worker.scheduler import KeyScheduler


def test_tenant_is_the_key_prefix() -> None:
    assert tenant_of(b"acme/lisbon-1") == b"acme"
    assert tenant_of(b"nokey") == b"nokey"
    assert tenant_of(None) is None


def test_a_tenant_at_its_cap_is_passed_over_while_another_waits() -> None:
    s: KeyScheduler[str] = KeyScheduler(tenant_cap=2)
    for i in range(6):
        s.submit(f"a/p{i}".encode(), f"a{i}")
    s.submit(b"b/p0", "b0")
    s.submit(b"b/p1", "b1")
    started = [s.next_ready() for _ in range(4)]
    assert started == ["a0", "b0", "a1", "b1"]
    assert s.running_by_tenant() == {"a": 2, "b": 2}
    # b has nothing ready: a may go over its cap rather than leave slots idle
    assert s.next_ready() == "a2"
    s.done(b"b/p0")
    s.submit(b"b/p2", "b2")
    assert s.next_ready() == "b2", "b is under its cap and a is over it"


def test_fairness_keeps_the_order_of_a_key() -> None:
    s: KeyScheduler[str] = KeyScheduler(tenant_cap=1)
    s.submit(b"a/p", "a-1")
    s.submit(b"a/p", "a-2")
    s.submit(b"b/p", "b-1")
    assert s.next_ready() == "a-1"
    assert s.next_ready() == "b-1"
    assert s.next_ready() is None, "a-2 waits for a-1 whatever the fairness"
    s.done(b"a/p")
    assert s.next_ready() == "a-2"


def test_replayed_items_go_before_waiting_items_of_their_key() -> None:
    s: KeyScheduler[str] = KeyScheduler()
    s.submit(b"a/p", "running")
    s.submit(b"a/p", "later")
    s.submit_first(b"a/p", ["parked-1", "parked-2"])
    s.submit_first(b"b/p", ["b-1", "b-2"])
    assert s.next_ready() == "running"
    assert s.next_ready() == "b-1"
    s.done(b"a/p")
    assert s.next_ready() == "parked-1"
    s.done(b"a/p")
    assert s.next_ready() == "parked-2"
    s.done(b"a/p")
    assert s.next_ready() == "later"


def test_round_robin_between_tenants() -> None:
    q: TenantQueues[str] = TenantQueues(cap=100)
    for i in range(3):
        q.push(b"a", f"a{i}")
    q.push(b"b", "b0")
    q.push(b"c", "c0")
    assert [q.pop() for _ in range(5)] == ["a0", "b0", "c0", "a1", "a2"]
    assert q.pop() is None
    assert len(q) == 0
