"""The worker runtime: run handlers for a queue's events with ordering per key, retry tiers,
a dead-letter queue and commits that never skip unfinished work.

Start with `App` (declare handlers) and ``frontdesk worker module:app`` (run them); the
design is described in ``docs/worker.md`` and in the docstring of
`frontdesk.worker.runner`.
"""

from frontdesk.worker.app import App, Handler, Route
from frontdesk.worker.breaker import BreakerPolicy
from frontdesk.worker.config import WorkerConfig
from frontdesk.worker.context import Context
from frontdesk.worker.errors import (
    NonRetryableError,
    PolicyError,
    RetryableError,
    WorkerFencedError,
)
from frontdesk.worker.holds import HeldKey, held_keys, held_topic
from frontdesk.worker.policy import DlqBudget, RetryPolicy
from frontdesk.worker.runner import MissingTopicsError, Worker, run_worker

__all__ = [
    "App",
    "BreakerPolicy",
    "Context",
    "DlqBudget",
    "Handler",
    "HeldKey",
    "MissingTopicsError",
    "NonRetryableError",
    "PolicyError",
    "RetryPolicy",
    "RetryableError",
    "Route",
    "Worker",
    "WorkerConfig",
    "WorkerFencedError",
    "held_keys",
    "held_topic",
    "run_worker",
]
