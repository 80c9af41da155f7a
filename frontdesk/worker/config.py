"""How one worker process runs: limits, intervals and identity. Not *what* it runs (that
is the `App`), so one app module deploys with different settings per environment."""

from __future__ import annotations

import os
import re
import socket
from dataclasses import dataclass, field
from typing import Any

from frontdesk import naming
from frontdesk.worker.errors import PolicyError

_ID_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")


def default_worker_id(slot: int | None = None) -> str:
    """``<host>-<pid>`` for a lone process; ``<host>-<supervisor pid>-<slot>`` under the
    supervisor, so a restarted slot reuses its id and fences its dead predecessor."""
    host = re.sub(r"[^A-Za-z0-9._-]", "-", socket.gethostname())[:60] or "host"
    if slot is None:
        return f"{host}-{os.getpid()}"
    return f"{host}-{os.getppid()}-{slot}"


@dataclass(frozen=True, slots=True)
class WorkerConfig:
    """Runtime settings of a worker process; every field has a production default."""

    concurrency: int = 64
    """Handlers running at once in this process (async tasks or threads for sync ones)."""
    tenant_share: float | None = 0.5
    """Most of ``concurrency`` one tenant's records may take while other tenants' records
    are ready to run (pooled topics); ``None`` turns tenant fairness off. Work-conserving:
    a tenant alone may use every slot."""
    max_buffered: int | None = None
    """Records fetched but not finished before the worker stops fetching (and, if that
    lasts ``stall_before_pause``, pauses every partition); default 16 x concurrency, at
    least 4 poll batches."""
    stall_before_pause: float = 0.5
    max_outstanding: int = 5000
    """Records of one partition not yet under its commit point before that partition
    pauses: bounds memory when the partition's oldest record is slow."""
    commit_interval: float = 1.0
    """Seconds between checkpoints (one transaction each). Shorter means fewer redeliveries
    after a crash; longer means fewer transactions."""
    revoke_timeout: float = 20.0
    """How long a revoked partition's running handlers may finish before it is released;
    must stay well below ``max.poll.interval.ms``."""
    shutdown_timeout: float = 30.0
    poll_batch: int = 1000
    poll_timeout: float = 0.1
    metadata_refresh_ms: int = 30_000
    """How often the regex subscription looks for new topics (a new dedicated tenant)."""
    transaction_timeout: float = 30.0
    session_timeout_ms: int = 45_000
    hanging_check_interval: float = 15.0
    """Seconds between checks for group offsets a broker left pending for good (see
    `frontdesk.worker.hanging`); 0 turns the check off."""
    auto_offset_reset: str = "earliest"
    """A new group starts at the oldest retained event: nothing is skipped silently."""
    worker_id: str | None = None
    """Unique per process; names the transactional id. Default: see `default_worker_id`."""
    group_instance_id: str | None = None
    """Static group membership (``group.instance.id``): a member that comes back under the
    same id within the session timeout takes its partitions back at once, with no
    rebalance. Off by default and not set by the supervisor: combined with the
    cooperative-sticky assignor it left partitions of the group unassigned after repeated
    SIGKILLs (docs/reliability.md). A static member also does not leave the group when it
    stops, so its partitions wait for the session timeout unless the same id returns."""
    group_id: str | None = None
    """Consumer group; default ``[<ns>.][tenant.<id>.]frontdesk.<app>``."""
    tenant: str | None = None
    """Serve only this dedicated tenant's topics (a tenant-dedicated deployment)."""
    consumer_overrides: dict[str, Any] = field(default_factory=dict)
    """Extra librdkafka consumer properties, applied last."""

    def __post_init__(self) -> None:
        if self.concurrency < 1:
            raise PolicyError(f"concurrency must be at least 1, got {self.concurrency}")
        if self.tenant_share is not None and not 0.0 < self.tenant_share <= 1.0:
            raise PolicyError(f"tenant_share must be in (0, 1], got {self.tenant_share}")
        if self.max_buffered is not None and self.max_buffered < self.concurrency:
            raise PolicyError("max_buffered must be at least concurrency")
        if self.hanging_check_interval < 0:
            raise PolicyError("hanging_check_interval must be 0 (off) or positive")
        if self.commit_interval <= 0 or self.poll_timeout <= 0:
            raise PolicyError("commit_interval and poll_timeout must be positive")
        if self.worker_id is not None and not _ID_RE.fullmatch(self.worker_id):
            raise PolicyError(f"invalid worker id {self.worker_id!r}")
        if self.group_id is not None and not _ID_RE.fullmatch(self.group_id):
            raise PolicyError(f"invalid group id {self.group_id!r}")
        if self.tenant is not None:
            try:
                naming.validate_tenant_id(self.tenant)
            except ValueError as exc:
                raise PolicyError(str(exc)) from exc

    @property
    def tenant_cap(self) -> int | None:
        """Concurrency slots one tenant may hold while others wait (``None``: no cap)."""
        if self.tenant_share is None:
            return None
        return max(1, int(self.concurrency * self.tenant_share))

    @property
    def buffered_limit(self) -> int:
        return self.max_buffered or max(16 * self.concurrency, 4 * self.poll_batch)
