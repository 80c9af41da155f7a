"""frontdesk: the Kafka event backbone for multi-tenant Property Management Systems."""

from frontdesk.worker import (
    App,
    BreakerPolicy,
    Context,
    DlqBudget,
    NonRetryableError,
    RetryableError,
    RetryPolicy,
    WorkerConfig,
)

__all__ = [
    "App",
    "BreakerPolicy",
    "Context",
    "DlqBudget",
    "NonRetryableError",
    "RetryPolicy",
    "RetryableError",
    "WorkerConfig",
]
