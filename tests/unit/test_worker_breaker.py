"""The circuit breaker: closed -> open on a failure rate, half-open probe, back to closed."""

from __future__ import annotations

import pytest

from frontdesk.worker.breaker import (
    BreakerPolicy,
    Breakers,
    BreakerState,
    CircuitBreaker,
    dependency_of,
    retry_after_of,
)
from frontdesk.worker.errors import PolicyError, RetryableError

POLICY = BreakerPolicy(failure_rate=0.5, window=10, min_calls=4, open_for=5, probes=1)


def test_stays_closed_below_the_minimum_of_calls() -> None:
    b = CircuitBreaker("ota", POLICY)
    for t in range(3):
        assert b.allow(t)
        assert not b.record(True, t)
    assert b.state is BreakerState.CLOSED


def test_opens_at_the_failure_rate_and_refuses_calls() -> None:
    b = CircuitBreaker("ota", POLICY)
    b.record(False, 0)
    b.record(False, 0)
    b.record(True, 1)
    assert b.record(True, 2), "2 of 4 failed: 50% opens"
    assert b.state is BreakerState.OPEN
    assert not b.allow(3)
    assert b.is_open(3)
    assert not b.record(True, 3), "late outcomes of calls started before do not re-open"


def test_old_outcomes_leave_the_window() -> None:
    b = CircuitBreaker("ota", POLICY)
    for t in range(3):
        b.record(True, t)
    for t in range(20, 24):
        assert not b.record(False, t)
    assert b.failure_rate(24) == (0, 4)
    assert b.state is BreakerState.CLOSED


def test_half_open_lets_one_probe_through_and_closes_on_success() -> None:
    b = CircuitBreaker("ota", POLICY)
    for t in range(4):
        b.record(True, t)
    assert not b.allow(7.9), "opened at 3 for 5 seconds"
    assert b.allow(9), "open_for elapsed: one probe"
    assert b.state is BreakerState.HALF_OPEN
    assert not b.allow(9), "only one probe at a time"
    assert b.is_open(9)
    b.record(False, 9.5)
    assert b.state is BreakerState.CLOSED
    assert b.allow(10)
    assert b.allow(10)


def test_a_failed_probe_opens_again_for_the_whole_duration() -> None:
    b = CircuitBreaker("ota", POLICY)
    for t in range(4):
        b.record(True, t)
    assert b.allow(9)
    assert b.record(True, 9.2)
    assert b.state is BreakerState.OPEN
    assert not b.allow(14)
    assert b.allow(14.2)


def test_a_cancelled_probe_frees_its_slot() -> None:
    b = CircuitBreaker("ota", POLICY)
    for t in range(4):
        b.record(True, t)
    assert b.allow(9)
    b.cancel()
    assert b.allow(9)


def test_policy_is_checked() -> None:
    with pytest.raises(PolicyError):
        BreakerPolicy(failure_rate=0)
    with pytest.raises(PolicyError):
        BreakerPolicy(min_calls=0)
    with pytest.raises(PolicyError):
        BreakerPolicy(open_for=0)


def test_registry_creates_one_breaker_per_dependency() -> None:
    breakers = Breakers(POLICY)
    assert breakers.get("a") is breakers.get("a")
    breakers.get("b")
    assert breakers.states() == {"a": "closed", "b": "closed"}


class _DepError(RetryableError):
    def __init__(self, dependency: str, retry_after: float | None) -> None:
        super().__init__("down")
        self.dependency = dependency
        self.retry_after = retry_after


def test_errors_name_their_dependency_and_wait() -> None:
    assert dependency_of(_DepError("ota:x", 12)) == "ota:x"
    assert retry_after_of(_DepError("ota:x", 12)) == 12.0
    assert retry_after_of(_DepError("ota:x", None)) is None
    assert dependency_of(ValueError()) is None
    assert retry_after_of(RetryableError("x", retry_after=3)) == 3.0
