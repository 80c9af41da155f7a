"""`App`: a named set of handlers for one queue, the unit a worker deployment runs.

::

    import frontdesk
    from frontdesk.events import BookingCreated

    app = frontdesk.App("housekeeping", queue="operational")

    @app.handler(BookingCreated, tiers=("10s", "1m"), non_retryable=(KeyError,))
    async def on_booking(event: BookingCreated, ctx: frontdesk.Context) -> None:
        ...

Run it with ``frontdesk worker mymodule:app``. Declaring a handler checks only what is
knowable without a cluster (the event belongs to the app's queue, the policy is
self-consistent); `App.compile` checks the rest against the topology when the worker boots.
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from frontdesk.events import Event
from frontdesk.idempotency import IdempotencyStore
from frontdesk.queues import QueueType
from frontdesk.settings import Settings
from frontdesk.topology import Topology, load_topology
from frontdesk.worker.breaker import BreakerPolicy
from frontdesk.worker.config import WorkerConfig
from frontdesk.worker.errors import PolicyError
from frontdesk.worker.policy import DlqBudget, ResolvedPolicy, RetryPolicy

_NAME_RE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,62}$")

F = TypeVar("F", bound=Callable[..., Any])


@dataclass(frozen=True, slots=True)
class Handler:
    """A declared handler: the function and its (unresolved) retry policy."""

    event_type: type[Event]
    fn: Callable[..., Any]
    is_async: bool
    retry: RetryPolicy
    dependency: str | None = None
    ordered: bool | None = None


@dataclass(frozen=True, slots=True)
class Route:
    """A handler whose policy has been checked against the topology: what the runtime runs."""

    event_type: type[Event]
    fn: Callable[..., Any]
    is_async: bool
    policy: ResolvedPolicy
    name: str
    dependency: str | None = None
    """The external system the handler needs: its circuit breaker diverts to fallback."""
    hold_keys: bool | None = None
    """Whether a failed event holds its key; ``None``: as the event type says."""

    @property
    def ordered(self) -> bool:
        """Whether a later event of a key must wait for this one (``Event.ordered``, unless
        the handler said otherwise)."""
        if self.hold_keys is not None:
            return self.hold_keys
        return bool(self.event_type.ordered)


class App:
    """Handlers for the events of one queue, run by a consumer group named after the app."""

    def __init__(
        self,
        name: str,
        *,
        queue: QueueType | str,
        topology: Topology | Path | str | None = None,
        retry: RetryPolicy | None = None,
        dlq_budget: DlqBudget | None = None,
        idempotency: IdempotencyStore | None = None,
        config: WorkerConfig | None = None,
        breaker: BreakerPolicy | None = None,
    ) -> None:
        """``topology`` defaults to the file named by the settings (``FRONTDESK_TOPOLOGY``);
        ``retry`` is the default policy of handlers that declare none; ``config`` holds
        runtime defaults that the CLI's options override; ``breaker`` says when a
        dependency's circuit breaker opens (one breaker per dependency).

        An app of the ``fallback`` queue may handle event types of any queue: it handles
        what other apps diverted to it while a dependency was down."""
        if not _NAME_RE.fullmatch(name):
            raise PolicyError(
                f"invalid app name {name!r}: 1-63 lower-case letters, digits, '-' or '_' "
                "(it becomes part of the consumer group id)"
            )
        self.name = name
        self.queue = QueueType(queue)
        self._topology = topology
        self.retry = retry or RetryPolicy()
        self.dlq_budget = dlq_budget or DlqBudget()
        self.idempotency = idempotency
        self.config = config or WorkerConfig()
        self.breaker = breaker or BreakerPolicy()
        self.handlers: dict[type[Event], Handler] = {}

    def handler(
        self,
        event_type: type[Event],
        *,
        retry: RetryPolicy | None = None,
        tiers: tuple[str, ...] | list[str] | None = None,
        max_attempts: int | None = None,
        jitter: float | None = None,
        non_retryable: tuple[type[BaseException], ...] | None = None,
        timeout: float | None = None,
        dependency: str | None = None,
        ordered: bool | None = None,
    ) -> Callable[[F], F]:
        """Register the decorated function (async, or sync: run in a thread) for one type.

        Pass a whole `RetryPolicy` as ``retry``, or its fields one by one; fields not
        given come from the app's default policy. ``dependency`` (e.g. ``"ota:booking_com"``)
        names the external system the handler needs: while its circuit breaker is open the
        events are diverted to the fallback queue instead of being tried. Errors carrying a
        ``dependency`` attribute (such as the consumers' ``DependencyError``) feed the
        breaker they name even without the declaration. ``ordered=False`` lets a handler
        of an ordered event type do without held keys, when its work does not depend on
        the order (e.g. it keeps the latest value by ``occurred_at``); the default follows
        ``Event.ordered``.
        """
        if not (isinstance(event_type, type) and issubclass(event_type, Event)):
            raise PolicyError(f"{event_type!r} is not an event model")
        if dependency is not None and not dependency.strip():
            raise PolicyError("dependency must be a non-empty name, e.g. 'ota:booking_com'")
        if self.queue is not QueueType.FALLBACK and event_type.queue is not self.queue:
            raise PolicyError(
                f"{event_type.__name__} travels on the {event_type.queue.value} queue, but "
                f"app {self.name!r} consumes {self.queue.value}"
            )
        if event_type in self.handlers:
            raise PolicyError(f"{event_type.__name__} already has a handler in {self.name!r}")
        fields = (tiers, max_attempts, jitter, non_retryable, timeout)
        if retry is not None and any(f is not None for f in fields):
            raise PolicyError("pass either retry=RetryPolicy(...) or its fields, not both")
        if retry is None:
            base = self.retry
            retry = RetryPolicy(
                tiers=tuple(tiers) if tiers is not None else base.tiers,
                max_attempts=max_attempts if max_attempts is not None else base.max_attempts,
                jitter=jitter if jitter is not None else base.jitter,
                non_retryable=non_retryable if non_retryable is not None else base.non_retryable,
                timeout=timeout if timeout is not None else base.timeout,
            )

        def register(fn: F) -> F:
            self.handlers[event_type] = Handler(
                event_type, fn, inspect.iscoroutinefunction(fn), retry, dependency, ordered
            )
            return fn

        return register

    def topology(self) -> Topology:
        """The topology this app runs against (loaded once)."""
        if not isinstance(self._topology, Topology):
            if self._topology is None:
                self._topology = Settings().topology
            self._topology = load_topology(self._topology)
        return self._topology

    def compile(self, topology: Topology | None = None) -> dict[type[Event], Route]:
        """Resolve every handler's policy against the topology; raises `PolicyError`."""
        topology = topology or self.topology()
        if not self.handlers:
            raise PolicyError(f"app {self.name!r} declares no handlers")
        routes: dict[type[Event], Route] = {}
        for event_type, h in self.handlers.items():
            try:
                policy = h.retry.resolve(self.queue, topology)
            except PolicyError as exc:
                raise PolicyError(f"handler for {event_type.__name__}: {exc}") from exc
            name = getattr(h.fn, "__qualname__", repr(h.fn))
            routes[event_type] = Route(
                event_type, h.fn, h.is_async, policy, name, h.dependency, h.ordered
            )
        return routes

    def group_id(self, namespace: str | None, tenant: str | None = None) -> str:
        """``[<ns>.][tenant.<id>.]frontdesk.<app>``: the tenant prefix lets a dedicated
        deployment's group fall under the tenant's prefixed GROUP ACL."""
        prefix = f"{namespace}." if namespace else ""
        if tenant:
            prefix += f"tenant.{tenant}."
        return f"{prefix}frontdesk.{self.name}"

    def run(self, *, metrics_port: int | None = None, **config: Any) -> int:
        """Run one worker process in the foreground until SIGTERM/SIGINT; returns the exit
        code. Keyword arguments override fields of the app's `WorkerConfig`."""
        from frontdesk.worker.runner import run_worker  # noqa: PLC0415 - runner imports this module

        return run_worker(self, metrics_port=metrics_port, **config)
