"""The console's overview charts the last hour per queue, and per tenant for a tenant user.

Contract: a `TrendSampler` over the real broker samples throughput (offsets appended to the
main topics), consumer lag, the oldest waiting event and the DLQ rate; the overview draws
them as inline SVG (no script, no CDN: the page loads nothing from elsewhere). An operator
sees the whole queue's lines; a tenant user sees its own lag and DLQ rate and is told that
a shared topic's throughput is not measured per tenant, and nothing of another tenant. The
DLQ page shows a histogram of the reasons of the dead letters that match its filters.
Runs in headless Chromium (Debian's); ``FRONTDESK_TRENDS_SCREENSHOTS=DIR`` keeps the
screenshots.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

from confluent_kafka import TopicPartition

from frontdesk import headers
from frontdesk.console import ConsoleConfig, Role, UserStore, add_user
from frontdesk.console.trends import SHARED, TrendSampler
from frontdesk.dlq import DlqReview
from frontdesk.lag import LagProvider
from tests.support import dlq as support
from tests.support.browser import CHROMIUM_ARGS, browser_path, log_in
from tests.support.console import serve
from tests.support.kafka import Cluster, unique

TENANTS = ("seaside-rentals", "alpine-lodges")


def _traffic(kafka: Cluster, topic: str, count: int) -> None:
    producer = kafka.producer()
    for i in range(count):
        tenant = TENANTS[i % 2]
        producer.produce(
            topic, key=f"{tenant}/p{i % 3}", value=b"x", headers=[(headers.TENANT, tenant)]
        )
    assert producer.flush(30) == 0


def test_overview_charts_and_reason_histogram(kafka: Cluster, tmp_path: Path) -> None:
    from playwright.sync_api import expect, sync_playwright

    ns = unique("trends")
    topo = support.apply(kafka, ns)
    pooled = topo.main_topics("operational")[0]
    _traffic(kafka, pooled, 40)
    consumer = kafka.consumer(f"{ns}.frontdesk.operational")
    consumer.commit(
        offsets=[TopicPartition(pooled, 0, 0), TopicPartition(pooled, 1, 0)], asynchronous=False
    )
    consumer.close()
    review = DlqReview(kafka.config, topo)
    lag = LagProvider(kafka.config, ns, ttl=0)
    trends = TrendSampler(review, lag)
    try:
        trends.sample_once()
        for round_ in range(2):
            _traffic(kafka, pooled, 30)
            support.seed(
                kafka,
                f"{pooled}.dlq",
                [
                    support.letter(pooled, tenant="seaside-rentals"),
                    support.letter(pooled, tenant="alpine-lodges", reason="bad_magic"),
                    support.letter(pooled, tenant="alpine-lodges", reason="bad_magic"),
                ][: 2 + round_],
            )
            time.sleep(1.0)  # the samples' DLQ windows end after the letters' timestamps
            trends.sample_once()
    finally:
        lag.close()

    users = tmp_path / "users.yaml"
    add_user(users, "ops", "operator-pass", Role.OPERATOR)
    add_user(users, "seaside", "tenant-pass", Role.TENANT, "seaside-rentals")
    config = ConsoleConfig(review, UserStore(users), secret_key="trends-secret", trends=trends)
    shots = Path(os.environ.get("FRONTDESK_TRENDS_SCREENSHOTS") or tmp_path)
    shots.mkdir(parents=True, exist_ok=True)
    with serve(config) as base, sync_playwright() as p:
        browser = p.chromium.launch(executable_path=browser_path(), args=CHROMIUM_ARGS)
        try:
            ops = browser.new_context(viewport={"width": 1440, "height": 900})
            elsewhere: list[str] = []
            ops.on("request", lambda r: elsewhere.append(r.url) if base not in r.url else None)
            page = ops.new_page()
            log_in(page, base, "ops", "operator-pass")
            charts = page.locator("#trends-operational svg.chart")
            expect(charts).to_have_count(4)
            for title in ("throughput", "consumer lag", "oldest waiting event", "dead-lettered"):
                expect(page.locator("#trends-operational")).to_contain_text(title)
            # Every figure has a line: 3 samples of lag and age, 2 of the rates.
            expect(page.locator("#trends-operational polyline.chart-line")).to_have_count(4)
            lag_chart = charts.nth(1)
            expect(lag_chart).to_contain_text("now 100")  # 40 + 2 x 30 produced, none handled
            expect(charts.nth(3)).not_to_contain_text("now 0")
            page.screenshot(path=str(shots / "overview-operator.png"), full_page=True)

            page.goto(f"{base}/dlq?queue=operational")
            histogram = page.locator("#reasons svg")
            expect(histogram).to_contain_text("bad_magic")
            expect(histogram).to_contain_text("retries_exhausted")
            expect(histogram.locator("rect.chart-bar")).to_have_count(2)
            expect(histogram).to_contain_text("3")  # bad_magic: 1 + 2
            page.screenshot(path=str(shots / "dlq-histogram.png"), full_page=True)
            assert elsewhere == [], elsewhere  # offline: nothing fetched from elsewhere
            ops.close()

            tenant = browser.new_context(viewport={"width": 1440, "height": 900})
            page = tenant.new_page()
            log_in(page, base, "seaside", "tenant-pass")
            mine = page.locator("#trends-operational")
            expect(mine.locator("svg.chart")).to_have_count(4)
            expect(mine).to_contain_text(SHARED)
            expect(mine.locator("polyline.chart-line")).to_have_count(2)  # lag, DLQ rate
            expect(mine.locator("svg.chart").nth(1)).to_contain_text("now 50")  # half of it
            expect(page.locator("main")).not_to_contain_text("alpine-lodges")
            page.screenshot(path=str(shots / "overview-tenant.png"), full_page=True)
            tenant.close()
        finally:
            browser.close()
