"""Retry policies are validated at boot: a bad combination never reaches a record."""

from __future__ import annotations

import random

import pytest

import frontdesk
from frontdesk.events import BookingCreated, ChannelSyncRequested
from frontdesk.queues import QueueType
from frontdesk.topology.model import parse_topology
from frontdesk.worker import PolicyError, RetryPolicy
from frontdesk.worker.policy import DlqBudget, classify

TOPOLOGY = parse_topology(
    """
queues:
  operational: {retry: {tiers: [10s, 1m, 10m]}}
  automation: {}
  sync: {}
  fallback: {retry: {tiers: []}}
"""
)


def resolve(**kwargs: object) -> object:
    return RetryPolicy(**kwargs).resolve(QueueType.OPERATIONAL, TOPOLOGY)  # type: ignore[arg-type]


def test_default_policy_uses_every_declared_tier() -> None:
    policy = RetryPolicy().resolve(QueueType.OPERATIONAL, TOPOLOGY)
    assert policy.tiers == ("10s", "1m", "10m")
    assert policy.max_attempts == 4
    assert [policy.next_tier(n) for n in (1, 2, 3, 4)] == ["10s", "1m", "10m", None]


def test_more_attempts_than_tiers_repeat_the_last_tier() -> None:
    policy = RetryPolicy(tiers=("10s", "1m"), max_attempts=5).resolve(
        QueueType.OPERATIONAL, TOPOLOGY
    )
    assert [policy.next_tier(n) for n in range(1, 6)] == ["10s", "1m", "1m", "1m", None]


def test_fewer_attempts_stop_early() -> None:
    policy = RetryPolicy(max_attempts=2).resolve(QueueType.OPERATIONAL, TOPOLOGY)
    assert [policy.next_tier(n) for n in (1, 2)] == ["10s", None]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"tiers": ("5s",)}, "not declared"),
        ({"tiers": ("1m", "10s")}, "escalate"),
        ({"tiers": ("10s",), "max_attempts": 1}, "never retries"),
        ({"tiers": (), "max_attempts": 3}, "needs at least one retry tier"),
        ({"tiers": (), "jitter": 0.1}, "nothing to jitter"),
    ],
)
def test_bad_combinations_fail_against_the_topology(
    kwargs: dict[str, object], message: str
) -> None:
    with pytest.raises(PolicyError, match=message):
        resolve(**kwargs)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"jitter": 1.5}, "jitter"),
        ({"max_attempts": 0}, "max_attempts"),
        ({"tiers": ("ten seconds",)}, "invalid duration"),
        ({"tiers": "10s"}, "sequence"),
        ({"non_retryable": (frontdesk.RetryableError,)}, "cannot be non-retryable"),
        ({"non_retryable": ("ValueError",)}, "not an exception"),
        ({"timeout": 0}, "timeout"),
    ],
)
def test_bad_policies_fail_when_built(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(PolicyError, match=message):
        RetryPolicy(**kwargs)  # type: ignore[arg-type]


def test_classification_is_one_decision() -> None:
    policy = RetryPolicy(non_retryable=(LookupError,)).resolve(QueueType.OPERATIONAL, TOPOLOGY)

    class StillRetryable(frontdesk.RetryableError, KeyError):
        pass

    assert classify(RuntimeError(), policy)
    assert not classify(frontdesk.NonRetryableError(), policy)
    assert not classify(KeyError(), policy)
    assert classify(StillRetryable(), policy)


def test_due_time_is_never_early_and_jitter_only_adds() -> None:
    policy = RetryPolicy(jitter=0.5).resolve(QueueType.OPERATIONAL, TOPOLOGY)
    rng = random.Random(7)
    dues = [policy.due_at_ms("1m", 1_000, rng) for _ in range(500)]
    assert min(dues) >= 1_000 + 60_000
    assert max(dues) <= 1_000 + 90_000
    assert len(set(dues)) > 100
    exact = RetryPolicy().resolve(QueueType.OPERATIONAL, TOPOLOGY)
    assert exact.due_at_ms("10s", 5, rng) == 10_005


def test_app_refuses_bad_handlers_at_declaration_and_at_boot() -> None:
    app = frontdesk.App("policy-test", queue="operational", topology=TOPOLOGY)
    with pytest.raises(PolicyError, match="sync queue"):
        app.handler(ChannelSyncRequested)
    with pytest.raises(PolicyError, match="either"):
        app.handler(BookingCreated, retry=RetryPolicy(), max_attempts=2)

    @app.handler(BookingCreated, tiers=("10s", "2h"))
    async def on_booking(event: BookingCreated, ctx: frontdesk.Context) -> None:
        pass

    with pytest.raises(PolicyError, match=r"BookingCreated.*2h"):
        app.compile()
    with pytest.raises(PolicyError, match="app name"):
        frontdesk.App("Bad Name", queue="operational")


def test_app_group_ids() -> None:
    app = frontdesk.App("housekeeping", queue="operational", topology=TOPOLOGY)
    assert app.group_id(None) == "frontdesk.housekeeping"
    assert app.group_id("staging") == "staging.frontdesk.housekeeping"
    assert (
        app.group_id("staging", "grand-hotel")
        == "staging.tenant.grand-hotel.frontdesk.housekeeping"
    )


def test_dlq_budget_validation() -> None:
    with pytest.raises(PolicyError):
        DlqBudget(max_share=0)
    with pytest.raises(PolicyError):
        DlqBudget(min_events=0)
