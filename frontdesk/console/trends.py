"""Trends for the console's overview: each queue's figures over the last hour.

A background thread samples every ``interval`` seconds and keeps the samples in memory
(a console that restarts starts its charts afresh; nothing is written anywhere):

- **throughput**: offsets appended per second to the queue's main topics, from the end
  offsets the lag measurement reads (offsets, not events: transaction markers count too);
- **consumer lag** and the age of the **oldest waiting event**, from the worker groups'
  lag (`frontdesk.lag.LagProvider`, measured in a child process);
- **DLQ rate**: records dead-lettered per minute, from a header-only read of the DLQs'
  records of the last interval.

Every figure is also kept per tenant where it can be told apart: lag and the DLQ rate for
every tenant; throughput and the oldest event only for a dedicated tenant (its own
topics), since a pooled topic's rate speaks of every tenant on it. A tenant user is only
ever given its own tenant's series.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import Counter, deque
from collections.abc import Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from frontdesk import naming
from frontdesk.console.charts import Chart
from frontdesk.dlq import DlqFilter, DlqReview, dlq_topics
from frontdesk.queues import QueueType

if TYPE_CHECKING:  # the lag machinery loads only where a console measures lag
    from frontdesk.lag import LagProvider, LagReport

log = logging.getLogger(__name__)

WINDOW = 3600.0
"""Seconds of history kept and charted."""
INTERVAL = 30.0
"""Seconds between samples."""

Scope = tuple[str, str | None]
"""(queue, tenant): tenant None is the whole queue."""

FIGURES: dict[str, tuple[str, str]] = {
    "throughput": ("throughput", "offsets/s"),
    "lag": ("consumer lag", "events"),
    "oldest": ("oldest waiting event", "s"),
    "dlq_rate": ("dead-lettered", "per min"),
}
"""Figure -> (chart title, unit), in the order the overview shows them."""

SHARED = "shared topic: not measured per tenant"


class TrendSampler:
    """Samples the queues' figures and keeps the last ``window`` seconds of them."""

    def __init__(
        self,
        review: DlqReview,
        lag: LagProvider | None,
        *,
        interval: float = INTERVAL,
        window: float = WINDOW,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.review = review
        self.lag = lag
        self.interval = interval
        self.window = window
        self.clock = clock
        self._series: dict[tuple[str, Scope], deque[tuple[float, float | None]]] = {}
        self._ends: dict[Scope, int] = {}
        self._last: float | None = None
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    # -- sampling ------------------------------------------------------------------------
    def start(self) -> None:
        """Sample now and every ``interval`` seconds, in a daemon thread, until `stop`."""
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="console-trends", daemon=True)
            self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=30)
            self._thread = None

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.sample_once()
            except Exception:  # a broken sample must not end the charts
                log.exception("console trends: sampling failed; retrying next interval")
            self._stop.wait(self.interval)

    def sample_once(self) -> None:
        """One sample of every figure (a figure that cannot be measured now is a gap)."""
        now = self.clock()
        since = self._last
        values: dict[tuple[str, Scope], float | None] = {}
        report = self._report()
        if report is not None:
            self._from_lag(report, now, since, values)
        if since is not None:
            self._dead_letters(since, now, values)
        with self._lock:
            for key, value in values.items():
                series = self._series.setdefault(key, deque())
                series.append((now, value))
                while series and series[0][0] < now - self.window:
                    series.popleft()
            self._last = now

    def _report(self) -> LagReport | None:
        if self.lag is None:
            return None
        from frontdesk.isolated import IsolatedProcessDied  # noqa: PLC0415 - see above
        from frontdesk.lag import LagUnavailableError  # noqa: PLC0415

        try:
            return self.lag.report()
        except (LagUnavailableError, IsolatedProcessDied) as exc:
            log.info("console trends: lag unavailable: %s", exc)
            return None

    def _from_lag(
        self,
        report: LagReport,
        now: float,
        since: float | None,
        values: dict[tuple[str, Scope], float | None],
    ) -> None:
        lag: Counter[Scope] = Counter()
        oldest: dict[Scope, float] = {}
        ends: dict[Scope, dict[tuple[str, int], int]] = {}
        for group in report.groups:
            for p in group.partitions:
                if p.queue is None:
                    continue
                scopes: list[Scope] = [(p.queue, None)]
                if p.tenant is not None:
                    scopes.append((p.queue, p.tenant))
                for scope in scopes:
                    if p.role == "main":
                        ends.setdefault(scope, {})[(p.topic, p.partition)] = p.end
                    if p.lag and p.oldest_age_seconds is not None:
                        oldest[scope] = max(oldest.get(scope, 0.0), p.oldest_age_seconds)
                    oldest.setdefault(scope, 0.0)
                lag[(p.queue, None)] += p.lag
            for t in group.tenants:
                if t.queue is not None:
                    lag[(t.queue, t.tenant)] += t.lag
        for scope, n in lag.items():
            values[("lag", scope)] = float(n)
        for scope, age in oldest.items():
            values[("oldest", scope)] = age
        for scope, offsets in ends.items():
            total = sum(offsets.values())
            previous = self._ends.get(scope)
            self._ends[scope] = total
            if previous is not None and since is not None and now > since:
                values[("throughput", scope)] = max(0, total - previous) / (now - since)

    def _dead_letters(
        self, since: float, now: float, values: dict[tuple[str, Scope], float | None]
    ) -> None:
        """Records dead-lettered in [since, now), per queue and per tenant they belong to."""
        query = DlqFilter(
            since=datetime.fromtimestamp(since, UTC), until=datetime.fromtimestamp(now, UTC)
        )
        topology = self.review.topology
        found = self.review.dead_letters(
            dlq_topics(topology), query, include_handled=True, skip_missing=True
        )
        count: Counter[Scope] = Counter({(q.value, None): 0 for q in QueueType})
        for dl in found:
            parsed = naming.parse_topic(dl.id.topic, self.review.namespace)
            if parsed is None:
                continue
            count[(parsed.queue.value, None)] += 1
            if dl.tenant is not None and dl.owned_by(dl.tenant):
                count[(parsed.queue.value, dl.tenant)] += 1
        minutes = (now - since) / 60
        for scope, n in count.items():
            values[("dlq_rate", scope)] = n / minutes if minutes > 0 else None

    # -- reading -------------------------------------------------------------------------
    def charts(self, queue: QueueType, tenant: str | None) -> list[Chart]:
        """The charts of ``queue`` for a viewer: the whole queue for an operator (``tenant``
        None), only that tenant's series for a tenant user."""
        scope: Scope = (queue.value, tenant)
        dedicated = {t.id for t in self.review.topology.dedicated_tenants()}
        out = []
        with self._lock:
            for figure, (title, unit) in FIGURES.items():
                points = list(self._series.get((figure, scope), ()))
                note = "no samples yet" if self._last is None else "no worker group measured"
                if tenant is not None and not points:
                    if figure in ("lag", "dlq_rate"):
                        # Nothing of this tenant was seen: zero at every sample of the queue.
                        whole = self._series.get((figure, (queue.value, None)), ())
                        points = [(t, None if v is None else 0.0) for t, v in whole]
                    elif tenant not in dedicated:
                        note = SHARED
                out.append(Chart(title, unit, points, note))
        return out


__all__ = ["FIGURES", "INTERVAL", "WINDOW", "TrendSampler"]
