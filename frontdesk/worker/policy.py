"""Failure policy as typed, frozen data, checked when the worker boots.

A handler says *what* should happen when it fails (which retry tiers, how many attempts,
how much jitter, which exceptions are hopeless); the runtime decides *how* in one place
(`classify` and `ResolvedPolicy.next_tier`). Everything that can be wrong with a policy is
checked before the first record is read: a tier the topology does not declare, tiers that
do not escalate, a jitter with nothing to jitter, attempts that can never happen. A bad
deploy therefore fails at start-up, not on the first failing event hours later.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

from frontdesk import naming
from frontdesk.errors import DecodeError
from frontdesk.queues import QueueType
from frontdesk.topology import Topology
from frontdesk.worker.errors import NonRetryableError, PolicyError, RetryableError


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """How a handler's failures are retried.

    ``tiers``: delays of the retry tiers to use, a subset of the queue's tiers in the
    topology, shortest first; ``None`` means all of them, ``()`` means no retries.
    ``max_attempts``: total deliveries including the first; default one per tier plus the
    first. More attempts than tiers repeat the last tier (e.g. ``1h`` for a day).
    ``jitter``: a fraction in [0, 1]; each wait is ``delay * (1 + U(0, jitter))``. Jitter is
    only ever added, so an event never runs before its tier's delay.
    ``non_retryable``: exception types that go to the DLQ at once (besides
    `NonRetryableError`); a `RetryableError` subclass of one of them stays retryable.
    ``timeout``: seconds a handler may run; past it the attempt fails (retryably).
    """

    tiers: tuple[str, ...] | None = None
    max_attempts: int | None = None
    jitter: float = 0.0
    non_retryable: tuple[type[BaseException], ...] = ()
    timeout: float | None = None

    def __post_init__(self) -> None:
        if self.tiers is not None:
            if isinstance(self.tiers, str):
                raise PolicyError("tiers must be a sequence of durations, not one string")
            object.__setattr__(self, "tiers", tuple(self.tiers))
            for delay in self.tiers:
                try:
                    naming.parse_duration_ms(delay)
                except ValueError as exc:
                    raise PolicyError(str(exc)) from exc
        if self.max_attempts is not None and self.max_attempts < 1:
            raise PolicyError(f"max_attempts must be at least 1, got {self.max_attempts}")
        if not 0.0 <= self.jitter <= 1.0:
            raise PolicyError(f"jitter is a fraction of the delay in [0, 1], got {self.jitter}")
        if self.timeout is not None and self.timeout <= 0:
            raise PolicyError(f"timeout must be positive, got {self.timeout}")
        object.__setattr__(self, "non_retryable", tuple(self.non_retryable))
        for exc_type in self.non_retryable:
            if not (isinstance(exc_type, type) and issubclass(exc_type, BaseException)):
                raise PolicyError(f"non_retryable lists {exc_type!r}, which is not an exception")
            if issubclass(exc_type, RetryableError):
                raise PolicyError(
                    f"{exc_type.__name__} is a RetryableError and cannot be non-retryable"
                )

    def resolve(self, queue: QueueType, topology: Topology) -> ResolvedPolicy:
        """Check this policy against the queue's declared tiers; raise `PolicyError`."""
        declared = topology.retry_delays(queue)
        tiers = tuple(declared) if self.tiers is None else self.tiers
        unknown = [t for t in tiers if t not in declared]
        if unknown:
            raise PolicyError(
                f"retry tier(s) {', '.join(unknown)} are not declared for queue {queue.value} "
                f"(declared: {', '.join(declared) or 'none'})"
            )
        delays = [naming.parse_duration_ms(t) for t in tiers]
        if len(set(delays)) != len(delays) or delays != sorted(delays):
            raise PolicyError(f"retry tiers must be distinct and escalate, got {list(tiers)}")
        max_attempts = self.max_attempts if self.max_attempts is not None else len(tiers) + 1
        if tiers and max_attempts == 1:
            raise PolicyError("max_attempts=1 never retries: drop the tiers (tiers=()) instead")
        if not tiers and max_attempts > 1:
            raise PolicyError(f"max_attempts={max_attempts} needs at least one retry tier")
        if not tiers and self.jitter:
            raise PolicyError("jitter without retry tiers has nothing to jitter")
        return ResolvedPolicy(
            tiers=tiers,
            tier_ms=tuple(delays),
            max_attempts=max_attempts,
            jitter=self.jitter,
            non_retryable=self.non_retryable,
            timeout=self.timeout,
        )


@dataclass(frozen=True, slots=True)
class ResolvedPolicy:
    """A policy checked against the topology: what the runtime executes."""

    tiers: tuple[str, ...]
    tier_ms: tuple[int, ...]
    max_attempts: int
    jitter: float = 0.0
    non_retryable: tuple[type[BaseException], ...] = ()
    timeout: float | None = None

    def next_tier(self, failed_attempts: int) -> str | None:
        """The tier an event goes to after its ``failed_attempts``-th failure, or ``None``
        when it has had all its attempts (then it goes to the DLQ)."""
        if failed_attempts >= self.max_attempts or not self.tiers:
            return None
        return self.tiers[min(failed_attempts, len(self.tiers)) - 1]

    def tier_after(self, failed_attempts: int, retry_after_ms: int | None) -> str | None:
        """`next_tier`, moved up to the first tier no shorter than ``retry_after_ms`` (the
        wait a dependency asked for), or the last tier when none is that long."""
        tier = self.next_tier(failed_attempts)
        if tier is None or not retry_after_ms:
            return tier
        start = self.tiers.index(tier)
        for index in range(start, len(self.tiers)):
            if self.tier_ms[index] >= retry_after_ms:
                return self.tiers[index]
        return self.tiers[-1]

    def due_at_ms(self, tier: str, now_ms: int, rng: random.Random | None = None) -> int:
        """When an event entering ``tier`` at ``now_ms`` may run again: never early."""
        delay = self.tier_ms[self.tiers.index(tier)]
        extra = 0
        if self.jitter:
            extra = int(delay * self.jitter * (rng or random).random())
        return now_ms + delay + extra


def classify(exc: BaseException, policy: ResolvedPolicy) -> bool:
    """Whether ``exc`` is worth retrying under ``policy``: the one place this is decided."""
    if isinstance(exc, RetryableError):
        return True
    if isinstance(exc, NonRetryableError | DecodeError):
        return False
    return not isinstance(exc, policy.non_retryable)


@dataclass(frozen=True, slots=True)
class DlqBudget:
    """When too much goes to the DLQ, stop taking work instead of draining the topic.

    Trips when more than ``max_share`` of at least ``min_events`` outcomes in the last
    ``window`` seconds were dead-lettered. A broken deploy or a poisoned upstream then
    leaves the events in place for a fix, rather than moving them all to the DLQ.
    """

    max_share: float = 0.5
    min_events: int = 20
    window: float = 60.0
    enabled: bool = True
    resume_after: float | None = None
    """Seconds after tripping when the worker takes work again on its own (with an empty
    window); ``None``: it stays halted until restarted or `Worker.resume` is called."""

    def __post_init__(self) -> None:
        if self.resume_after is not None and self.resume_after <= 0:
            raise PolicyError(f"DLQ budget resume_after must be positive, got {self.resume_after}")
        if not 0.0 < self.max_share <= 1.0:
            raise PolicyError(f"DLQ budget max_share must be in (0, 1], got {self.max_share}")
        if self.min_events < 1:
            raise PolicyError(f"DLQ budget min_events must be at least 1, got {self.min_events}")
        if self.window <= 0:
            raise PolicyError(f"DLQ budget window must be positive, got {self.window}")


@dataclass(frozen=True, slots=True)
class HandlerOptions:
    """Everything declared with ``@app.handler(...)`` beside the function itself."""

    retry: RetryPolicy = field(default_factory=RetryPolicy)


__all__ = ["DlqBudget", "HandlerOptions", "ResolvedPolicy", "RetryPolicy", "classify"]
