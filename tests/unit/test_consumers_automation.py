"""The automation deployment: templates per tenant over the defaults, sending through the
fake provider over real HTTP, idempotency, scheduling, the provider error mapping, and the
guest conversations (log and automatic acknowledgements)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from consumers.automation.dispatch import Dispatcher
from consumers.automation.inbox import Inbox, ack_id
from consumers.automation.provider import MessagingClient
from consumers.automation.templates import TemplateError, Templates
from consumers.common.errors import DependencyError, NonRetryableError, RejectedError
from consumers.common.settings import DEFAULT_TEMPLATES
from consumers.common.store import Store
from consumers.fakes.messaging import FakeMessaging
from consumers.fallback.messages import DeferredMessages
from frontdesk.events import GuestMessageReceived, GuestMessageSent, NotificationRequested

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


# -- conversations -------------------------------------------------------------------------


@pytest.fixture
def inbox(dispatcher: Dispatcher) -> Inbox:
    return Inbox(dispatcher)


def received(message_id: str, *, at: datetime = NOW, **over: Any) -> GuestMessageReceived:
    fields: dict[str, Any] = {
        "tenant_id": "globex",
        "property_id": "porto-2",
        "message_id": message_id,
        "conversation_id": "C-B-1",
        "booking_id": "B-1",
        "guest_id": "G-1",
        "channel": "whatsapp",
        "body": "What time is check-in?",
        "received_at": at,
    }
    return GuestMessageReceived.new(**(fields | over))


def sent(message_id: str, *, at: datetime = NOW, **over: Any) -> GuestMessageSent:
    fields: dict[str, Any] = {
        "tenant_id": "globex",
        "property_id": "porto-2",
        "message_id": message_id,
        "conversation_id": "C-B-1",
        "channel": "whatsapp",
        "body": "Check-in is from 15:00.",
        "sent_by": "staff-7",
        "sent_at": at,
    }
    return GuestMessageSent.new(**(fields | over))


def thread(inbox: Inbox, conversation: str = "C-B-1") -> list[tuple[str, str, str | None]]:
    return [
        (e.direction, e.message_id, e.author) for e in inbox.conversation("globex", conversation)
    ]


async def test_a_message_to_the_guest_is_recorded_once(inbox: Inbox) -> None:
    event = sent("MSG-1", template_id="checkin_instructions")
    assert await inbox.message_sent(event)
    assert not await inbox.message_sent(event)  # redelivered
    (entry,) = inbox.conversation("globex", "C-B-1")
    assert (entry.direction, entry.author, entry.template_id) == (
        "outbound",
        "staff-7",
        "checkin_instructions",
    )
    assert entry.at == NOW


async def test_a_guest_message_is_recorded_and_acknowledged_once(
    inbox: Inbox, provider_server: FakeMessaging
) -> None:
    event = received("MSG-2")
    outcome = await inbox.message_received(event)
    assert outcome.recorded
    assert outcome.acknowledgement is not None
    assert outcome.acknowledgement.status == "sent"
    (delivered,) = delivered_to(provider_server, ack_id("MSG-2"))
    assert delivered.key == "globex:auto-ack:MSG-2"
    assert (delivered.message.to, delivered.message.channel) == ("C-B-1", "whatsapp")
    assert delivered.message.subject == "We received your message"
    assert "porto-2" in delivered.message.body
    assert thread(inbox) == [
        ("inbound", "MSG-2", "G-1"),
        ("outbound", "auto-ack:MSG-2", "frontdesk:auto-ack"),
    ]

    again = await inbox.message_received(event)  # redelivered
    assert not again.recorded
    assert again.acknowledgement is not None
    assert again.acknowledgement.status == "sent"
    assert len(delivered_to(provider_server, ack_id("MSG-2"))) == 1
    assert len(thread(inbox)) == 2


async def test_no_acknowledgement_while_the_conversation_is_active(
    inbox: Inbox, provider_server: FakeMessaging
) -> None:
    await inbox.message_received(received("MSG-3", at=NOW - timedelta(hours=3)))
    follow_up = await inbox.message_received(received("MSG-4", at=NOW - timedelta(hours=2)))
    assert (follow_up.acknowledgement, follow_up.skipped) == (None, "recent_reply")

    await inbox.message_sent(sent("MSG-5", at=NOW - timedelta(hours=1)))  # staff answered
    answered = await inbox.message_received(received("MSG-6", at=NOW))
    assert answered.skipped == "recent_reply"
    elsewhere = await inbox.message_received(received("MSG-7", conversation_id="C-other"))
    assert elsewhere.skipped is None  # another conversation

    assert delivered_to(provider_server, ack_id("MSG-4")) == []
    assert delivered_to(provider_server, ack_id("MSG-6")) == []
    assert [m for d, m, _ in thread(inbox) if d == "inbound"] == ["MSG-3", "MSG-4", "MSG-6"]


async def test_a_guest_writing_again_after_the_quiet_period_is_acknowledged_again(
    dispatcher: Dispatcher,
) -> None:
    inbox = Inbox(dispatcher, quiet=timedelta(hours=1))
    first = await inbox.message_received(received("MSG-8", at=NOW - timedelta(hours=3)))
    later = await inbox.message_received(received("MSG-9", at=NOW))
    assert first.acknowledgement is not None
    assert later.acknowledgement is not None
    assert later.acknowledgement.status == "sent"


async def test_stale_messages_and_disabled_acknowledgements_are_only_recorded(
    dispatcher: Dispatcher, provider_server: FakeMessaging
) -> None:
    old = await Inbox(dispatcher).message_received(received("MSG-10", at=NOW - timedelta(days=2)))
    assert (old.recorded, old.acknowledgement, old.skipped) == (True, None, "stale")
    off = Inbox(dispatcher, auto_acknowledge=False)
    quiet = await off.message_received(received("MSG-11", conversation_id="C-2"))
    assert (quiet.recorded, quiet.acknowledgement, quiet.skipped) == (True, None, "disabled")
    assert delivered_to(provider_server, ack_id("MSG-10")) == []
    assert delivered_to(provider_server, ack_id("MSG-11")) == []


async def test_an_acknowledgement_that_failed_to_send_is_sent_by_the_retry(
    inbox: Inbox, provider_server: FakeMessaging
) -> None:
    event = received("MSG-12")
    provider_server.fail(503, times=1)
    with pytest.raises(DependencyError):
        await inbox.message_received(event)
    waiting = inbox.dispatcher.message("globex", ack_id("MSG-12"))
    assert waiting is not None
    assert waiting.status == "sending"
    retried = await inbox.message_received(event)
    assert retried.acknowledgement is not None
    assert retried.acknowledgement.status == "sent"
    assert len(delivered_to(provider_server, ack_id("MSG-12"))) == 1
    assert len(thread(inbox)) == 2  # the retry recorded nothing twice


async def test_an_acknowledgement_during_a_long_outage_waits_in_the_outbox(
    inbox: Inbox, provider_server: FakeMessaging
) -> None:
    event = received("MSG-13")
    provider_server.fail(503)
    with pytest.raises(DependencyError) as caught:
        await inbox.message_received(event)
    assert await inbox.defer_acknowledgement(event, reason=str(caught.value))  # last attempt
    assert not await inbox.defer_acknowledgement(event, reason="again")
    deferred = inbox.dispatcher.message("globex", ack_id("MSG-13"))
    assert deferred is not None
    assert deferred.status == "deferred"

    provider_server.recover()
    assert await DeferredMessages(inbox.dispatcher).drain() == 1
    assert len(delivered_to(provider_server, ack_id("MSG-13"))) == 1


async def test_a_missing_acknowledgement_template_is_dead_lettered_and_records_nothing(
    tmp_path: Path, provider_server: FakeMessaging
) -> None:
    (tmp_path / "default").mkdir()
    store = Store(f"sqlite:///{tmp_path / 'inbox.db'}")
    async with MessagingClient(provider_server.url) as client:
        inbox = Inbox(Dispatcher(store, Templates(tmp_path), client, clock=lambda: NOW))
        with pytest.raises(TemplateError, match="message-received"):
            await inbox.message_received(received("MSG-14"))
        assert inbox.conversation("globex", "C-B-1") == []  # rolled back with its claim
        (tmp_path / "globex").mkdir()
        (tmp_path / "globex" / "message-received.txt").write_text(
            "Thanks! Porto team ($booking_id)", encoding="utf-8"
        )
        outcome = await inbox.message_received(received("MSG-14"))  # replayed after the fix
    assert outcome.acknowledgement is not None
    assert outcome.acknowledgement.body == "Thanks! Porto team (B-1)"
    store.close()
