"""The message log: one row per notification, keyed by tenant and notification id.

The row is what makes sending idempotent: a notification already ``sent`` is never sent
again, whichever event (or redelivery) asks. Statuses:

- ``scheduled``: rendered, waiting for its ``send_at``;
- ``sending``: rendered and being handed to the provider (a failed attempt stays here
  until its retry sends it);
- ``deferred``: rendered, its provider was down; the fallback deployment's outbox;
- ``sent``: handed to a provider (``provider``, ``provider_message_id``).

The rendered subject and body are stored with the row, so a scheduled or deferred message
goes out as it was rendered when requested, even if the template changes meanwhile.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from consumers.automation.provider import Outgoing
from consumers.automation.templates import Rendered
from consumers.common.store import Row, Tx, iso, now_iso
from frontdesk.events import NotificationRequested

MIGRATIONS = (
    """
    CREATE TABLE IF NOT EXISTS messages (
        tenant_id TEXT NOT NULL,
        notification_id TEXT NOT NULL,
        property_id TEXT NOT NULL,
        event_id TEXT NOT NULL,
        recipient TEXT NOT NULL,
        channel TEXT NOT NULL,
        template_id TEXT NOT NULL,
        subject TEXT,
        body TEXT NOT NULL,
        status TEXT NOT NULL,
        send_at TEXT,
        sent_at TEXT,
        provider TEXT,
        provider_message_id TEXT,
        note TEXT,
        updated_at TEXT NOT NULL,
        PRIMARY KEY (tenant_id, notification_id)
    )
    """,
    "CREATE INDEX IF NOT EXISTS messages_by_status ON messages (status, send_at)",
)


@dataclass(frozen=True, slots=True)
class Message:
    tenant_id: str
    notification_id: str
    recipient: str
    channel: str
    template_id: str
    subject: str | None
    body: str
    status: str
    send_at: datetime | None
    provider: str | None
    provider_message_id: str | None
    note: str | None

    @classmethod
    def from_row(cls, row: Row) -> Message:
        send_at = row["send_at"]
        return cls(
            tenant_id=row["tenant_id"],
            notification_id=row["notification_id"],
            recipient=row["recipient"],
            channel=row["channel"],
            template_id=row["template_id"],
            subject=row["subject"],
            body=row["body"],
            status=row["status"],
            send_at=None if send_at is None else datetime.fromisoformat(send_at),
            provider=row["provider"],
            provider_message_id=row["provider_message_id"],
            note=row["note"],
        )

    def outgoing(self) -> Outgoing:
        return Outgoing(
            tenant_id=self.tenant_id,
            reference=self.notification_id,
            to=self.recipient,
            channel=self.channel,
            subject=self.subject,
            body=self.body,
        )


def get(tx: Tx, tenant_id: str, notification_id: str) -> Message | None:
    row = tx.one(
        "SELECT * FROM messages WHERE tenant_id = ? AND notification_id = ?",
        (tenant_id, notification_id),
    )
    return None if row is None else Message.from_row(row)


def save(
    tx: Tx,
    event: NotificationRequested,
    rendered: Rendered,
    status: str,
    *,
    provider: str | None = None,
    provider_message_id: str | None = None,
    note: str | None = None,
) -> None:
    """Insert or move the notification's row to ``status``; a ``sent`` row never moves."""
    meta = event.meta
    put(
        tx,
        Draft(
            tenant_id=meta.tenant_id,
            notification_id=event.notification_id,
            property_id=meta.property_id,
            event_id=str(meta.event_id),
            recipient=event.recipient,
            channel=event.channel.value,
            rendered=rendered,
            send_at=event.send_at,
        ),
        status,
        provider=provider,
        provider_message_id=provider_message_id,
        note=note,
    )


@dataclass(frozen=True, slots=True)
class Draft:
    """A rendered message to record, whatever asked for it (a notification request, an
    automatic reply)."""

    tenant_id: str
    notification_id: str
    property_id: str
    event_id: str
    recipient: str
    channel: str
    rendered: Rendered
    send_at: datetime | None = None


def put(
    tx: Tx,
    draft: Draft,
    status: str,
    *,
    provider: str | None = None,
    provider_message_id: str | None = None,
    note: str | None = None,
) -> None:
    """Insert or move the message's row to ``status``; a ``sent`` row never moves."""
    sent_at = now_iso() if status == "sent" else None
    tx.execute(
        """
        INSERT INTO messages (tenant_id, notification_id, property_id, event_id, recipient,
            channel, template_id, subject, body, status, send_at, sent_at, provider,
            provider_message_id, note, updated_at)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
        ON CONFLICT (tenant_id, notification_id) DO UPDATE SET
            status = excluded.status,
            sent_at = excluded.sent_at,
            provider = excluded.provider,
            provider_message_id = excluded.provider_message_id,
            note = excluded.note,
            updated_at = excluded.updated_at
        WHERE messages.status <> 'sent'
        """,
        (
            draft.tenant_id,
            draft.notification_id,
            draft.property_id,
            draft.event_id,
            draft.recipient,
            draft.channel,
            draft.rendered.template_id,
            draft.rendered.subject,
            draft.rendered.body,
            status,
            None if draft.send_at is None else iso(draft.send_at),
            sent_at,
            provider,
            provider_message_id,
            note,
            now_iso(),
        ),
    )


def defer(tx: Tx, tenant_id: str, notification_id: str, note: str) -> bool:
    """Move a message still ``sending`` to the outbox (``deferred``); False if it was not."""
    return (
        tx.execute(
            "UPDATE messages SET status = 'deferred', note = ?, updated_at = ? "
            "WHERE tenant_id = ? AND notification_id = ? AND status = 'sending'",
            (note[:1000], now_iso(), tenant_id, notification_id),
        )
        == 1
    )


def mark_sent(tx: Tx, message: Message, provider: str, provider_message_id: str) -> None:
    tx.execute(
        "UPDATE messages SET status = 'sent', sent_at = ?, provider = ?, "
        "provider_message_id = ?, updated_at = ? "
        "WHERE tenant_id = ? AND notification_id = ? AND status <> 'sent'",
        (
            now_iso(),
            provider,
            provider_message_id,
            now_iso(),
            message.tenant_id,
            message.notification_id,
        ),
    )


def waiting(
    tx: Tx, status: str, *, due_by: datetime | None = None, limit: int = 100
) -> list[Message]:
    """Rows in ``status`` (``scheduled`` or ``deferred``), oldest first; with ``due_by``,
    only those whose send_at has come."""
    if due_by is None:
        rows = tx.all(
            "SELECT * FROM messages WHERE status = ? ORDER BY updated_at, notification_id LIMIT ?",
            (status, limit),
        )
    else:
        rows = tx.all(
            "SELECT * FROM messages WHERE status = ? AND send_at <= ? "
            "ORDER BY send_at, notification_id LIMIT ?",
            (status, iso(due_by), limit),
        )
    return [Message.from_row(row) for row in rows]


__all__ = ["MIGRATIONS", "Draft", "Message", "defer", "get", "mark_sent", "put", "save", "waiting"]
