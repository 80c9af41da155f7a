"""The overview page's numbers: open dead letters per queue, tenant and reason; topic sizes.

Everything here is cheap to get from Kafka: DLQ counts come from one header-only scan of
the DLQs, topic sizes from watermarks (``high - low``, which also counts transaction
markers, so it is labelled "offsets", not "events"). Consumer lag, throughput and held
keys need the worker runtime's view; they plug in through `QueueMetricsProvider`
(`frontdesk.lag.LagProvider`, `frontdesk.worker.HeldKeysProvider`). Trends over the last
hour come from a `frontdesk.console.trends.TrendSampler`, drawn as SVG on the server.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol

from confluent_kafka import TopicPartition
from markupsafe import Markup

from frontdesk import naming
from frontdesk.console.charts import line_chart
from frontdesk.console.security import may_see, scoped
from frontdesk.console.users import User
from frontdesk.dlq import DlqFilter, DlqReview, dlq_topics
from frontdesk.dlq.reader import reader_consumer
from frontdesk.queues import QueueType

if TYPE_CHECKING:
    from frontdesk.console.trends import TrendSampler

_TIMEOUT = 10.0


class QueueMetricsProvider(Protocol):
    """Extra per-queue figures (lag, held keys, ...) shown on the overview.

    ``tenant`` is the viewer's tenant (None for an operator): a provider must not return
    figures about other tenants to a tenant user.
    """

    def metrics(self, queue: QueueType, tenant: str | None) -> list[tuple[str, str]]: ...


@dataclass
class TopicSize:
    topic: str
    offsets: int


@dataclass
class QueueOverview:
    queue: QueueType
    open_dead_letters: int = 0
    by_tenant: Counter[str] = field(default_factory=Counter)
    by_reason: Counter[str] = field(default_factory=Counter)
    topics: list[TopicSize] = field(default_factory=list)
    """Main, retry and DLQ topic sizes; operators only (pooled sizes reveal other tenants)."""
    extra: list[tuple[str, str]] = field(default_factory=list)
    charts: list[Markup] = field(default_factory=list)
    """The last hour of the queue's trends as inline SVG (its viewer's tenant only)."""


def build_overview(
    review: DlqReview,
    user: User,
    providers: Sequence[QueueMetricsProvider] = (),
    trends: TrendSampler | None = None,
) -> list[QueueOverview]:
    rows = {q: QueueOverview(q) for q in QueueType}
    found = review.dead_letters(
        dlq_topics(review.topology), scoped(user, DlqFilter()), skip_missing=True
    )
    for dl in found:
        parsed = naming.parse_topic(dl.id.topic, review.namespace)
        if parsed is None or not may_see(user, dl):
            continue
        row = rows[parsed.queue]
        row.open_dead_letters += 1
        row.by_tenant[dl.tenant or "(none)"] += 1
        row.by_reason[dl.reason or "(none)"] += 1
    if user.is_operator:
        _sizes(review, rows)
    viewer = None if user.is_operator else user.tenant
    for queue, row in rows.items():
        for provider in providers:
            row.extra += provider.metrics(queue, viewer)
        if trends is not None:
            now = trends.clock()
            row.charts = [
                line_chart(c, now=now, window=trends.window) for c in trends.charts(queue, viewer)
            ]
    return list(rows.values())


def _sizes(review: DlqReview, rows: dict[QueueType, QueueOverview]) -> None:
    topo = review.topology
    consumer = reader_consumer(review.config)
    try:
        known = consumer.list_topics(timeout=_TIMEOUT).topics
        for queue, row in rows.items():
            for main in topo.main_topics(queue):
                names = [main]
                names += [naming.retry_topic(main, d) for d in topo.retry_delays(queue)]
                names.append(naming.dlq_topic(main))
                for name in names:
                    meta = known.get(name)
                    if meta is None or meta.error is not None:
                        continue
                    total = 0
                    for p in meta.partitions:
                        low, high = consumer.get_watermark_offsets(
                            TopicPartition(name, p), timeout=_TIMEOUT, cached=False
                        )
                        total += max(0, high - low)
                    row.topics.append(TopicSize(name, total))
    finally:
        consumer.close()
