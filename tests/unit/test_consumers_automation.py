"""The automation deployment: templates per tenant over the defaults, sending through the
fake provider over real HTTP, idempotency, scheduling, and the provider error mapping."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from consumers.automation.dispatch import Dispatcher
from consumers.automation.provider import MessagingClient
from consumers.automation.templates import TemplateError, Templates
from consumers.common.errors import DependencyError, NonRetryableError, RejectedError
from consumers.common.settings import DEFAULT_TEMPLATES
from consumers.common.store import Store
from consumers.fakes.messaging import FakeMessaging
from frontdesk.events import NotificationRequested

NOW = datetime(2025, 7, 1, 12, 0, tzinfo=UTC)
VARS = {
    "guest_name": "Ana",
    "booking_id": "B-1",
    "arrival": "2025-07-01",
    "departure": "2025-07-04",
}


@pytest.fixture(scope="module")
def provider_server() -> Iterator[FakeMessaging]:
    with FakeMessaging() as server:
        yield server


@pytest.fixture
async def dispatcher(tmp_path: Path, provider_server: FakeMessaging) -> AsyncIterator[Dispatcher]:
    provider_server.recover()
    store = Store(f"sqlite:///{tmp_path / 'automation.db'}")
    async with MessagingClient(provider_server.url, timeout=0.5) as client:
        yield Dispatcher(store, Templates(DEFAULT_TEMPLATES), client, clock=lambda: NOW)
    store.close()


def request(notification_id: str, tenant: str = "acme", **over: Any) -> NotificationRequested:
    fields: dict[str, Any] = {
        "tenant_id": tenant,
        "property_id": "lisbon-1",
        "notification_id": notification_id,
        "recipient": "ana@example.com",
        "channel": "email",
        "template_id": "booking_confirmation",
        "variables": VARS,
    }
    return NotificationRequested.new(**(fields | over))


def delivered_to(server: FakeMessaging, reference: str) -> list[Any]:
    return [d for d in server.delivered if d.message.reference == reference]


# -- templates -----------------------------------------------------------------------------


def test_a_tenant_template_overrides_the_default() -> None:
    templates = Templates(DEFAULT_TEMPLATES)
    own = templates.render("acme", "booking_confirmation", VARS)
    default = templates.render("globex", "booking_confirmation", VARS)
    assert own.subject == "Acme Stays: booking B-1 confirmed"
    assert own.source.parent.name == "acme"
    assert default.subject == "Your booking B-1 is confirmed"
    assert default.body.startswith("Hello Ana,")
    assert "2025-07-01 to 2025-07-04" in default.body


def test_tenant_templates_live_in_their_own_directory(tmp_path: Path) -> None:
    (tmp_path / "default").mkdir()
    (tmp_path / "globex").mkdir()
    (tmp_path / "globex" / "welcome.txt").write_text("Hi $name", encoding="utf-8")
    templates = Templates(tmp_path)
    rendered = templates.render("globex", "welcome", {"name": "Bo"})
    assert (rendered.subject, rendered.body) == (None, "Hi Bo")
    with pytest.raises(TemplateError, match="no template 'welcome'"):
        templates.render("acme", "welcome", {"name": "Bo"})  # another tenant's is not shared


@pytest.mark.parametrize(
    ("template_id", "variables", "match"),
    [
        ("no_such_template", VARS, "no template"),
        ("../acme/booking_confirmation", VARS, "invalid template id"),
        ("booking_confirmation", {"guest_name": "Ana"}, r"\$booking_id"),
    ],
)
def test_template_errors_are_not_retryable(
    template_id: str, variables: dict[str, str], match: str
) -> None:
    with pytest.raises(TemplateError, match=match) as caught:
        Templates(DEFAULT_TEMPLATES).render("acme", template_id, variables)
    assert isinstance(caught.value, NonRetryableError)


# -- dispatch ------------------------------------------------------------------------------


async def test_a_notification_is_sent_once(
    dispatcher: Dispatcher, provider_server: FakeMessaging
) -> None:
    event = request("N-1")
    outcome = await dispatcher.notify(event)
    assert outcome.status == "sent"
    assert outcome.message.provider == "primary"
    again = await dispatcher.notify(event)  # redelivered
    assert again.status == "already_sent"
    (delivered,) = delivered_to(provider_server, "N-1")
    assert delivered.key == "acme:N-1"
    assert delivered.message.subject == "Acme Stays: booking B-1 confirmed"
    assert delivered.message.to == "ana@example.com"


async def test_an_unknown_template_is_dead_lettered_before_sending(
    dispatcher: Dispatcher, provider_server: FakeMessaging
) -> None:
    with pytest.raises(TemplateError):
        await dispatcher.notify(request("N-2", template_id="nope"))
    assert delivered_to(provider_server, "N-2") == []
    assert dispatcher.message("acme", "N-2") is None


async def test_provider_outage_is_retryable_and_the_retry_sends(
    dispatcher: Dispatcher, provider_server: FakeMessaging
) -> None:
    event = request("N-3")
    provider_server.fail(503, times=1)
    with pytest.raises(DependencyError) as caught:
        await dispatcher.notify(event)
    assert caught.value.dependency == "messaging:primary"
    stuck = dispatcher.message("acme", "N-3")
    assert stuck is not None
    assert stuck.status == "sending"
    assert (await dispatcher.notify(event)).status == "sent"
    assert len(delivered_to(provider_server, "N-3")) == 1


async def test_provider_rate_limit_and_timeout_are_retryable(
    dispatcher: Dispatcher, provider_server: FakeMessaging
) -> None:
    provider_server.rate_limit(retry_after=30, times=1)
    with pytest.raises(DependencyError) as limited:
        await dispatcher.notify(request("N-4"))
    assert limited.value.retry_after == 30.0
    provider_server.slow(2.0, times=1)
    with pytest.raises(DependencyError, match="timed out"):
        await dispatcher.notify(request("N-4"))


async def test_provider_refusal_is_not_retryable(
    dispatcher: Dispatcher, provider_server: FakeMessaging
) -> None:
    provider_server.fail(400, times=1)
    with pytest.raises(RejectedError) as caught:
        await dispatcher.notify(request("N-5"))
    assert caught.value.status == 400


async def test_scheduled_notifications_wait_for_their_time(
    tmp_path: Path, provider_server: FakeMessaging
) -> None:
    now = [NOW]
    store = Store(f"sqlite:///{tmp_path / 'scheduled.db'}")
    async with MessagingClient(provider_server.url) as client:
        dispatcher = Dispatcher(store, Templates(DEFAULT_TEMPLATES), client, clock=lambda: now[0])
        outcome = await dispatcher.notify(request("N-6", send_at=NOW + timedelta(hours=2)))
        assert outcome.status == "scheduled"
        assert await dispatcher.send_due() == 0
        now[0] = NOW + timedelta(hours=2)
        assert await dispatcher.send_due() == 1
        assert await dispatcher.send_due() == 0
    message = dispatcher.message("acme", "N-6")
    assert message is not None
    assert message.status == "sent"
    assert len(delivered_to(provider_server, "N-6")) == 1
    store.close()


async def test_tenants_are_kept_apart(
    dispatcher: Dispatcher, provider_server: FakeMessaging
) -> None:
    await dispatcher.notify(request("N-7", tenant="acme"))
    await dispatcher.notify(request("N-7", tenant="globex"))  # same id, other tenant
    subjects = sorted(str(d.message.subject) for d in delivered_to(provider_server, "N-7"))
    assert subjects == ["Acme Stays: booking B-1 confirmed", "Your booking B-1 is confirmed"]
