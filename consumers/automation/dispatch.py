"""Guest notifications: render the tenant's template, send it, record it, once.

`Dispatcher.notify` handles a NotificationRequested:

1. a notification already sent (this event redelivered, or the PMS asking twice) is done;
2. the template is rendered now, so an unknown template or a missing value fails the
   request at once (DLQ) rather than when a scheduled message falls due;
3. a future ``send_at`` only records the rendered message as ``scheduled``; `send_due`,
   run periodically (``python -m consumers.automation.due``), sends it when it is time;
4. otherwise it is sent and recorded as ``sent``.

Between "sent" and "recorded" a crash re-sends on redelivery; the provider's idempotency key
(tenant + notification id) makes that one delivery.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from consumers.automation import messages
from consumers.automation.messages import Message
from consumers.automation.provider import MessagingClient
from consumers.automation.templates import Rendered, Templates
from consumers.common.run import in_thread
from consumers.common.store import Store
from frontdesk.events import NotificationRequested


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True, slots=True)
class Outcome:
    status: str
    """``sent``, ``scheduled``, ``already_sent`` (or, in the fallback, ``deferred``)."""
    message: Message


class Dispatcher:
    """Renders with ``templates``, sends through ``provider``, records in ``store``."""

    def __init__(
        self,
        store: Store,
        templates: Templates,
        provider: MessagingClient,
        *,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        self.store = store
        self.templates = templates
        self.provider = provider
        self.clock = clock
        store.migrate(messages.MIGRATIONS)

    async def notify(self, event: NotificationRequested) -> Outcome:
        existing = await in_thread(self.message, event.meta.tenant_id, event.notification_id)
        if existing is not None and existing.status == "sent":
            return Outcome("already_sent", existing)
        rendered = self.render(event)
        if event.send_at is not None and event.send_at > self.clock():
            return Outcome("scheduled", await in_thread(self.save, event, rendered, "scheduled"))
        pending = await in_thread(self.save, event, rendered, "sending")
        return Outcome("sent", await self.send(pending))

    async def send_due(self, limit: int = 100) -> int:
        """Send scheduled messages whose time has come; how many were sent.

        A provider failure propagates after the messages before it were recorded as sent;
        the rest stay scheduled for the next run.
        """
        due = await in_thread(self._due, limit)
        for message in due:
            await self.send(message)
        return len(due)

    async def send(self, message: Message) -> Message:
        """Send a recorded message through the provider and mark it sent."""
        provider_id = await self.provider.send(message.outgoing())
        return await in_thread(self.mark_sent, message, self.provider.name, provider_id)

    def render(self, event: NotificationRequested) -> Rendered:
        return self.templates.render(event.meta.tenant_id, event.template_id, event.variables)

    def message(self, tenant_id: str, notification_id: str) -> Message | None:
        with self.store.transaction() as tx:
            return messages.get(tx, tenant_id, notification_id)

    def save(
        self, event: NotificationRequested, rendered: Rendered, status: str, note: str | None = None
    ) -> Message:
        with self.store.transaction() as tx:
            messages.save(tx, event, rendered, status, note=note)
            saved = messages.get(tx, event.meta.tenant_id, event.notification_id)
        assert saved is not None
        return saved

    def _due(self, limit: int) -> list[Message]:
        with self.store.transaction() as tx:
            return messages.waiting(tx, "scheduled", due_by=self.clock(), limit=limit)

    def mark_sent(self, message: Message, provider: str, provider_id: str) -> Message:
        with self.store.transaction() as tx:
            messages.mark_sent(tx, message, provider, provider_id)
            sent = messages.get(tx, message.tenant_id, message.notification_id)
        assert sent is not None
        return sent


__all__ = ["Dispatcher", "Outcome"]
