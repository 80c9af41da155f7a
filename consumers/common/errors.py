"""The failure vocabulary of the consumer deployments, on top of the runtime's two verdicts.

The worker runtime only distinguishes "retry" (any exception, or `RetryableError`) from
"dead-letter now" (`NonRetryableError`). The subclasses here add what an operator reading
the DLQ, or the circuit breaker, needs: which dependency failed, with which HTTP status,
and how long the dependency asked us to wait.
"""

from __future__ import annotations

from frontdesk import NonRetryableError, RetryableError


class DependencyError(RetryableError):
    """An external system failed transiently (timeout, 5xx, 429): worth retrying later.

    ``retry_after`` is the wait in seconds the dependency asked for (HTTP Retry-After),
    so the runtime may pick a tier that is not earlier than that.
    """

    def __init__(
        self,
        message: str,
        *,
        dependency: str,
        status: int | None = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message)
        self.dependency = dependency
        self.status = status
        self.retry_after = retry_after


class RejectedError(NonRetryableError):
    """An external system refused the request itself (4xx): sending it again cannot help."""

    def __init__(self, message: str, *, dependency: str, status: int) -> None:
        super().__init__(message)
        self.dependency = dependency
        self.status = status


class TransitionError(NonRetryableError):
    """The event asks for a state change the business rules forbid (e.g. check-out of a
    cancelled booking); a human must look at it, so it goes to the DLQ."""


class UnknownEntityError(NonRetryableError):
    """The event refers to something this deployment never saw (a booking, a payment).

    Events of one property arrive in order, so a missing predecessor will not show up by
    waiting: either it was dead-lettered (then its key is held) or it never existed.
    """


__all__ = [
    "DependencyError",
    "NonRetryableError",
    "RejectedError",
    "RetryableError",
    "TransitionError",
    "UnknownEntityError",
]
