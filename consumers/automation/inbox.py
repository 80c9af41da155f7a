"""Guest conversations: record every message in and out, acknowledge the guest's.

`Inbox.message_sent` (GuestMessageSent) records the property's message in the conversation
log (`consumers.automation.conversations`), once per event.

`Inbox.message_received` (GuestMessageReceived) records the guest's message and, in the
same transaction as its claim, decides whether it is owed an automatic acknowledgement.
It is, unless:

- acknowledgements are off (``FRONTDESK_AUTO_ACKNOWLEDGE=false``);
- the message is stale: received more than `MAX_AGE` before it is handled. A backlog or a
  replay must not write to guests about old messages;
- someone wrote to the guest in this conversation within `QUIET` before it: staff are on
  it, or an earlier message was already acknowledged.

An acknowledgement is rendered from the tenant's `ACK_TEMPLATE` (over the default), stored
in the message log as ``sending`` under `ack_id` (``auto-ack:<message id>``) and in the
conversation as outbound, and then sent. It goes back into the guest's thread: to the
conversation id, over the channel the message came in on. The provider's idempotency key
(tenant + ack id) makes a re-send after a crash one delivery.

A redelivered event finds its claim and changes nothing, but an acknowledgement still
``sending`` (its send failed) is sent then, so retries finish the job. On the last attempt
against a provider that is still down, `defer_acknowledgement` moves it to the outbox that
``python -m consumers.fallback.drain`` sends.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from consumers.automation import conversations, messages
from consumers.automation.conversations import AUTO_ACK_AUTHOR, Entry
from consumers.automation.dispatch import Dispatcher
from consumers.automation.messages import Draft, Message
from consumers.common.run import in_thread
from frontdesk.events import GuestMessageReceived, GuestMessageSent

SCOPE = "automation:conversations"
"""Claim scope of the conversation log."""
ACK_TEMPLATE = "message-received"
"""The template of the automatic acknowledgement; a tenant's own file wins."""
QUIET = timedelta(hours=12)
"""No acknowledgement when the guest was written to in the conversation this recently."""
MAX_AGE = timedelta(hours=24)
"""No acknowledgement for a message received longer ago than this when it is handled."""


def ack_id(message_id: str) -> str:
    """The message-log id of the acknowledgement of the guest's message ``message_id``."""
    return f"auto-ack:{message_id}"


@dataclass(frozen=True, slots=True)
class Received:
    """What handling a GuestMessageReceived did."""

    recorded: bool
    """False for a redelivery: the message was in the conversation already."""
    acknowledgement: Message | None
    """The acknowledgement, as it stands now (``sent``, or ``sending`` if the send failed)."""
    skipped: str | None = None
    """Why no acknowledgement was owed: ``disabled``, ``stale`` or ``recent_reply``."""


class Inbox:
    """The conversation log and automatic acknowledgements, over ``dispatcher``'s store,
    templates and provider."""

    def __init__(
        self,
        dispatcher: Dispatcher,
        *,
        auto_acknowledge: bool = True,
        quiet: timedelta = QUIET,
        max_age: timedelta = MAX_AGE,
    ) -> None:
        self.dispatcher = dispatcher
        self.store = dispatcher.store
        self.auto_acknowledge = auto_acknowledge
        self.quiet = quiet
        self.max_age = max_age
        self.store.migrate(conversations.MIGRATIONS)

    # -- events ------------------------------------------------------------------------

    async def message_sent(self, event: GuestMessageSent) -> bool:
        """Record the property's message; False for a redelivery."""
        return await in_thread(self._sent, event)

    async def message_received(self, event: GuestMessageReceived) -> Received:
        recorded, ack, skipped = await in_thread(self._received, event)
        if ack is not None and ack.status == "sending":
            ack = await self.dispatcher.send(ack)
        return Received(recorded, ack, skipped)

    async def defer_acknowledgement(self, event: GuestMessageReceived, reason: str) -> bool:
        """Leave the message's acknowledgement to the outbox; False if none is waiting."""
        return await in_thread(self._defer, event, reason)

    # -- reading (operators and tests) ---------------------------------------------------

    def conversation(self, tenant_id: str, conversation_id: str) -> list[Entry]:
        with self.store.transaction() as tx:
            return conversations.history(tx, tenant_id, conversation_id)

    # -- store work (runs in a thread) ---------------------------------------------------

    def _sent(self, event: GuestMessageSent) -> bool:
        m = event.meta
        with self.store.transaction() as tx:
            if not tx.claim(SCOPE, m.event_id):
                return False
            return conversations.record(
                tx,
                _entry(
                    event,
                    event.message_id,
                    "outbound",
                    author=event.sent_by,
                    template_id=event.template_id,
                    body=event.body,
                    at=event.sent_at,
                ),
            )

    def _received(self, event: GuestMessageReceived) -> tuple[bool, Message | None, str | None]:
        m = event.meta
        reply_id = ack_id(event.message_id)
        with self.store.transaction() as tx:
            if not tx.claim(SCOPE, m.event_id):
                return False, messages.get(tx, m.tenant_id, reply_id), None
            inbound = _entry(
                event,
                event.message_id,
                "inbound",
                author=event.guest_id,
                template_id=None,
                body=event.body,
                at=event.received_at,
            )
            if not conversations.record(tx, inbound):
                return False, messages.get(tx, m.tenant_id, reply_id), None
            skipped = self._skip(event)
            if skipped is None and conversations.last_outbound(
                tx,
                m.tenant_id,
                event.conversation_id,
                since=event.received_at - self.quiet,
                until=event.received_at,
            ):
                skipped = "recent_reply"
            if skipped is not None:
                return True, None, skipped
            rendered = self.dispatcher.templates.render(
                m.tenant_id, ACK_TEMPLATE, _variables(event)
            )
            messages.put(
                tx,
                Draft(
                    tenant_id=m.tenant_id,
                    notification_id=reply_id,
                    property_id=m.property_id,
                    event_id=str(m.event_id),
                    recipient=event.conversation_id,
                    channel=event.channel.value,
                    rendered=rendered,
                ),
                "sending",
            )
            conversations.record(
                tx,
                _entry(
                    event,
                    reply_id,
                    "outbound",
                    author=AUTO_ACK_AUTHOR,
                    template_id=ACK_TEMPLATE,
                    body=rendered.body,
                    at=event.received_at,
                ),
            )
            return True, messages.get(tx, m.tenant_id, reply_id), None

    def _skip(self, event: GuestMessageReceived) -> str | None:
        if not self.auto_acknowledge:
            return "disabled"
        if event.received_at < self.dispatcher.clock() - self.max_age:
            return "stale"
        return None

    def _defer(self, event: GuestMessageReceived, reason: str) -> bool:
        with self.store.transaction() as tx:
            return messages.defer(tx, event.meta.tenant_id, ack_id(event.message_id), reason)


def _entry(
    event: GuestMessageSent | GuestMessageReceived,
    message_id: str,
    direction: str,
    *,
    author: str | None,
    template_id: str | None,
    body: str,
    at: datetime,
) -> Entry:
    """A conversation entry caused by ``event``: its tenant, conversation, property, booking,
    guest, channel and event id; the rest as given."""
    m = event.meta
    return Entry(
        tenant_id=m.tenant_id,
        message_id=message_id,
        conversation_id=event.conversation_id,
        property_id=m.property_id,
        booking_id=event.booking_id,
        guest_id=event.guest_id,
        direction=direction,
        channel=event.channel.value,
        author=author,
        template_id=template_id,
        body=body,
        at=at,
        event_id=str(m.event_id),
    )


def _variables(event: GuestMessageReceived) -> dict[str, str]:
    """What an acknowledgement template may use."""
    variables = {
        "property": event.meta.property_id,
        "conversation_id": event.conversation_id,
        "channel": event.channel.value,
    }
    if event.booking_id is not None:
        variables["booking_id"] = event.booking_id
    return variables


__all__ = ["ACK_TEMPLATE", "MAX_AGE", "QUIET", "SCOPE", "Inbox", "Received", "ack_id"]
