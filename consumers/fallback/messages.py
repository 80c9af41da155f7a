"""Guest messages while the primary provider is down: a secondary provider, or the outbox.

`defer` renders the notification as the automation deployment would; with a secondary
provider configured it sends through that one, otherwise (or if the secondary fails too) the
rendered message waits in the message log as ``deferred``: the outbox. `drain` sends the
outbox through the primary once it answers, oldest first, and stops at the first failure.
A provider refusal (4xx) of one message is recorded on it and does not block the rest.
"""

from __future__ import annotations

import logging

from consumers.automation import messages
from consumers.automation.dispatch import Dispatcher, Outcome
from consumers.automation.messages import Message
from consumers.automation.provider import MessagingClient
from consumers.common.errors import DependencyError, RejectedError
from consumers.common.run import in_thread
from frontdesk.events import NotificationRequested

log = logging.getLogger(__name__)


class DeferredMessages:
    """Degraded sending over the automation deployment's message log."""

    def __init__(self, primary: Dispatcher, secondary: MessagingClient | None = None) -> None:
        self.primary = primary
        self.secondary = secondary

    async def defer(self, event: NotificationRequested, reason: str) -> Outcome:
        d = self.primary
        existing = await in_thread(d.message, event.meta.tenant_id, event.notification_id)
        if existing is not None and existing.status == "sent":
            return Outcome("already_sent", existing)
        rendered = d.render(event)  # an unknown template is as fatal here as there
        if event.send_at is not None and event.send_at > d.clock():
            return Outcome("scheduled", await in_thread(d.save, event, rendered, "scheduled"))
        if self.secondary is not None:
            pending = await in_thread(d.save, event, rendered, "sending")
            try:
                provider_id = await self.secondary.send(pending.outgoing())
            except DependencyError as exc:
                log.warning("secondary provider failed too, using the outbox: %s", exc)
            else:
                sent = await in_thread(d.mark_sent, pending, self.secondary.name, provider_id)
                return Outcome("sent", sent)
        saved = await in_thread(d.save, event, rendered, "deferred", reason)
        return Outcome("deferred", saved)

    async def drain(self, limit: int = 100) -> int:
        """Send the outbox through the primary; how many went out."""
        outbox = await in_thread(self._outbox, limit)
        sent = 0
        for message in outbox:
            try:
                await self.primary.send(message)
            except DependencyError as exc:
                log.info("primary provider still unavailable: %s", exc)
                break
            except RejectedError as exc:
                await in_thread(self._refused, message, str(exc))
                continue
            sent += 1
        return sent

    def _outbox(self, limit: int) -> list[Message]:
        with self.primary.store.transaction() as tx:
            return messages.waiting(tx, "deferred", limit=limit)

    def _refused(self, message: Message, why: str) -> None:
        with self.primary.store.transaction() as tx:
            tx.execute(
                "UPDATE messages SET status = 'refused', note = ? "
                "WHERE tenant_id = ? AND notification_id = ?",
                (why[:1000], message.tenant_id, message.notification_id),
            )


__all__ = ["DeferredMessages"]
