"""The DLQ budget per tenant (`frontdesk.worker.budget.TenantBudgets`), the halt records
operators read (`frontdesk.worker.halts`), and holder statuses scoped to their tenant."""

from __future__ import annotations

from frontdesk.worker.budget import TenantBudgets
from frontdesk.worker.halts import TenantHalt, halt_key
from frontdesk.worker.holds import HolderStatus, HoldTable
from frontdesk.worker.policy import DlqBudget

BUDGET = DlqBudget(max_share=0.5, min_events=10, window=60)


def test_only_the_tenant_over_budget_is_halted() -> None:
    budgets = TenantBudgets(BUDGET)
    reasons = []
    for i in range(30):
        reasons.append(budgets.record("evil", True, 100.0 + i / 10))
        assert budgets.record("acme", False, 100.0 + i / 10) is None
    tripped = [r for r in reasons if r is not None]
    assert len(tripped) == 1
    assert tripped[0].startswith("tenant evil: ")
    assert set(budgets.halted) == {"evil"}
    assert budgets.resume("acme") == []
    assert budgets.resume() == ["evil"]
    assert budgets.halted == {}


def test_idle_tenants_windows_are_forgotten() -> None:
    budgets = TenantBudgets(BUDGET)
    for i in range(1000):
        budgets.record(f"t{i}", False, 0.0)
    budgets.record("late", False, 1000.0)
    assert len(budgets._windows) == 1


def test_halt_records_round_trip() -> None:
    halt = TenantHalt(
        "g", "evil", "operational", "why", 1_700_000_000_000, "w-1", 1_700_000_060_000
    )
    assert TenantHalt.from_json(halt.to_json()) == halt
    assert halt_key("g", "w-1", "evil") == "halt|g|w-1|evil"
    assert halt_key("g", "w-1", "evil").startswith(halt_key("g", "w-1"))


def test_a_holder_status_of_another_tenant_releases_nothing() -> None:
    table = HoldTable("g")
    hold = table.create("t", 0, b"beta/p1", event_id="e1", event_type="X", stage="retry")
    forged = HolderStatus(hold.hold_id, "e1", "succeeded", 1, "g", tenant="acme")
    table.apply_state(f"holder|{hold.hold_id}", forged.to_json())
    assert not table.resolved(hold)
    genuine = HolderStatus(hold.hold_id, "e1", "succeeded", 2, "g", tenant="beta")
    table.apply_state(f"holder|{hold.hold_id}", genuine.to_json())
    assert table.resolved(hold)


def test_a_hold_is_dead_lettered_by_its_stage_or_its_holders_status() -> None:
    table = HoldTable("g")
    hold = table.create("t", 0, b"beta/p1", event_id="e1", event_type="X", stage="retry")
    assert not table.dead_lettered(hold)
    status = HolderStatus(hold.hold_id, "e1", "dead_lettered", 1, "g", tenant="beta")
    table.apply_state(f"holder|{hold.hold_id}", status.to_json())
    assert table.dead_lettered(hold)
