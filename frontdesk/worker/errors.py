"""The small vocabulary a handler uses to tell the runtime what a failure means.

Any exception a handler raises is retried (through the retry tiers, then the DLQ) unless it
is a `NonRetryableError` or a type the handler's policy lists as non-retryable: those go
to the dead-letter queue at once, because running them again cannot help. The mapping from
exception to outcome happens in exactly one place, `frontdesk.worker.policy.classify`.
"""

from __future__ import annotations

from frontdesk.errors import FrontdeskError


class RetryableError(FrontdeskError):
    """A transient failure (timeout, 503, lock held): try again after the next tier's delay.

    Raising it is the same as raising any other exception; it exists so handlers can say
    so explicitly, and so a policy can list a broad non-retryable base class while a
    specific subclass of it stays retryable.

    ``retry_after`` (seconds) is the least wait the failure asks for (an HTTP Retry-After):
    the runtime then picks a retry tier no shorter than that, and never runs it earlier.
    """

    def __init__(self, *args: object, retry_after: float | None = None) -> None:
        super().__init__(*args)
        self.retry_after = retry_after


class NonRetryableError(FrontdeskError):
    """A permanent failure (bad data, refused by the business rules): dead-letter at once."""


class PolicyError(FrontdeskError, ValueError):
    """A handler's policy is inconsistent or does not match the topology; raised at boot."""


class WorkerFencedError(FrontdeskError):
    """Another process took over this worker's transactional id, or its partitions.

    The process must stop: anything it would still commit is refused by the broker, and
    its in-memory state no longer matches what the group owns.
    """


class TransactionalProducerBrokenError(WorkerFencedError):
    """The worker's transactional producer is stuck or keeps failing: nothing can be
    committed any more. The process must exit so a restart of its slot (same transactional
    id) fences it and aborts its open transaction."""


__all__ = [
    "NonRetryableError",
    "PolicyError",
    "RetryableError",
    "TransactionalProducerBrokenError",
    "WorkerFencedError",
]
