"""The console end to end in headless Chromium, against a real broker.

Contract: an operator logs in, browses the DLQ, opens an event and redrives it with a
reason through the confirmation step (the bytes land on the original topic); a tenant user
is refused another tenant's event by URL (404) and by a forged POST, with or without a
valid CSRF token. Uses Debian's ``chromium`` (``apt-get install -y chromium``); when it is
missing the test FAILS, it does not skip. ``FRONTDESK_SCREENSHOT=docs/console.png`` also
saves the DLQ browser screenshot the README shows.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from frontdesk.console import ConsoleConfig, Role, UserStore, add_user
from frontdesk.dlq import DeadLetterId, DlqReview
from tests.support import dlq as support
from tests.support.browser import CHROMIUM_ARGS, browser_path
from tests.support.console import serve
from tests.support.kafka import Cluster, unique


@pytest.fixture
def served(kafka: Cluster, tmp_path: Path) -> Iterator[tuple[str, dict[str, list[DeadLetterId]]]]:
    topo = support.apply(kafka, unique("e2e"))
    pooled = topo.main_topics("operational")[0]
    automation = topo.main_topics("automation")[0]
    grand = topo.main_topic_for("operational", "grand")
    ids = {
        "seaside": support.seed(
            kafka,
            f"{pooled}.dlq",
            [
                support.letter(pooled, tenant="seaside-rentals", property_id=f"villa-{i}")
                for i in range(3)
            ],
        ),
        "alpine": support.seed(
            kafka,
            f"{pooled}.dlq",
            [
                support.letter(
                    pooled,
                    tenant="alpine-lodges",
                    value=b"\x00\x01not avro",
                    reason="bad_magic",
                    error_class="frontdesk.errors.BadMagicError",
                    error_message="not an Avro single-object message",
                    attempt=1,
                ),
                support.letter(
                    pooled,
                    tenant="alpine-lodges",
                    error_class="channels.RateLimited",
                    error_message="HTTP 429 from the channel manager",
                ),
            ],
        ),
        "automation": support.seed(
            kafka,
            f"{automation}.dlq",
            [
                support.letter(
                    automation,
                    tenant="seaside-rentals",
                    reason="non_retryable",
                    error_class="messaging.TemplateMissing",
                    error_message="template welcome-de not found",
                    attempt=1,
                )
            ],
        ),
        "grand": support.seed(
            kafka,
            f"{grand}.dlq",
            [support.letter(grand, tenant="grand", reason="tenant_mismatch", attempt=1)],
        ),
    }
    users = tmp_path / "users.yaml"
    add_user(users, "ops", "operator-pass", Role.OPERATOR)
    add_user(users, "seaside", "tenant-pass", Role.TENANT, "seaside-rentals")
    config = ConsoleConfig(DlqReview(kafka.config, topo), UserStore(users), secret_key="e2e")
    with serve(config) as base:
        yield base, ids


def test_console_in_a_browser(
    served: tuple[str, dict[str, list[DeadLetterId]]], kafka: Cluster, tmp_path: Path
) -> None:
    from playwright.sync_api import expect, sync_playwright

    base, ids = served
    target = ids["seaside"][0]
    other = ids["alpine"][1]
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=browser_path(), args=CHROMIUM_ARGS)
        try:
            ops = browser.new_context(viewport={"width": 1440, "height": 900})
            page = ops.new_page()
            page.goto(f"{base}/dlq")
            expect(page).to_have_url(f"{base}/login?next=/dlq")
            page.fill("input[name=username]", "ops")
            page.fill("input[name=password]", "operator-pass")
            page.click("button[type=submit]")
            expect(page.locator("h1")).to_contain_text("Dead letters")
            expect(page.locator("table.list tbody tr")).to_have_count(7)
            shot = Path(os.environ.get("FRONTDESK_SCREENSHOT") or tmp_path / "console.png")
            page.screenshot(path=str(shot), full_page=True)
            assert shot.stat().st_size > 10_000

            page.click(f"a[href='/dlq/{target}']")
            expect(page.locator("#payload")).to_contain_text('"tenant_id": "seaside-rentals"')
            expect(page.locator("#error-message")).to_have_text("the channel manager said no")
            expect(page.locator("#trace-id")).not_to_have_text("—")
            page.select_option("select[name=action]", "redrive")
            page.fill("input[name=reason]", "channel manager back up")
            page.click("text=Review…")
            expect(page.locator("h1")).to_contain_text("Confirm: redrive 1")
            page.click("text=Yes, redrive")
            expect(page.locator("#done")).to_contain_text("Done: redrive 1")
            redriven = kafka.drain(target.topic.removesuffix(".dlq"), expected=1)
            assert [(m.key(), m.value()) for m in redriven] == [
                (b"seaside-rentals/villa-0", support_value(kafka, target))
            ]
            page.goto(f"{base}/audit")
            expect(page.locator("table.list")).to_contain_text("channel manager back up")
            ops.close()

            tenant = browser.new_context()
            page = tenant.new_page()
            page.goto(f"{base}/login")
            page.fill("input[name=username]", "seaside")
            page.fill("input[name=password]", "tenant-pass")
            page.click("button[type=submit]")
            page.goto(f"{base}/dlq")
            rows = page.locator("table.list tbody")
            expect(rows).to_contain_text("seaside-rentals")
            expect(rows).not_to_contain_text("alpine-lodges")
            response = page.goto(f"{base}/dlq/{other}")
            assert response is not None
            assert response.status == 404
            page.goto(f"{base}/dlq")
            token = page.locator("input[name=csrf_token]").first.get_attribute("value")
            assert token
            forged = {"ids": str(other), "action": "discard", "reason": "x", "confirmed": "yes"}
            refused = tenant.request.post(
                f"{base}/actions/execute", form={**forged, "csrf_token": token}
            )
            assert refused.status == 404
            no_token = tenant.request.post(
                f"{base}/actions/execute", form={**forged, "ids": str(ids["seaside"][1])}
            )
            assert no_token.status == 403
            tenant.close()
        finally:
            browser.close()


def support_value(kafka: Cluster, dl_id: DeadLetterId) -> bytes | None:
    """The value bytes of the dead letter at ``dl_id``, read straight from its DLQ."""
    for msg in kafka.drain(dl_id.topic):
        if (msg.partition(), msg.offset()) == (dl_id.partition, dl_id.offset):
            value: bytes | None = msg.value()
            return value
    return None
