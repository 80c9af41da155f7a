"""The conversation log: every guest message in and out, per tenant and conversation.

One row per message, keyed by tenant and message id, with its direction:

- ``inbound``: the guest wrote (GuestMessageReceived); ``author`` is the guest id, if known;
- ``outbound``: the property wrote (GuestMessageSent: ``author`` is the staff user or the
  automation rule), or this deployment acknowledged an inbound message (``author`` is
  `AUTO_ACK_AUTHOR`, and the message itself is in the message log, `consumers.automation
  .messages`, under the same id).

``at`` is when the message was received or sent, as the PMS says, so `history` is the
thread in conversation order whatever order the events were handled in. Recording a
message twice keeps the first row.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from consumers.common.store import Row, Tx, iso, now_iso

AUTO_ACK_AUTHOR = "frontdesk:auto-ack"
"""The author of an automatic acknowledgement in the conversation log."""

MIGRATIONS = (
    """
    CREATE TABLE IF NOT EXISTS conversation_messages (
        tenant_id TEXT NOT NULL,
        message_id TEXT NOT NULL,
        conversation_id TEXT NOT NULL,
        property_id TEXT NOT NULL,
        booking_id TEXT,
        guest_id TEXT,
        direction TEXT NOT NULL,
        channel TEXT NOT NULL,
        author TEXT,
        template_id TEXT,
        body TEXT NOT NULL,
        at TEXT NOT NULL,
        event_id TEXT NOT NULL,
        recorded_at TEXT NOT NULL,
        PRIMARY KEY (tenant_id, message_id)
    )
    """,
    "CREATE INDEX IF NOT EXISTS conversation_messages_by_thread "
    "ON conversation_messages (tenant_id, conversation_id, at)",
)


@dataclass(frozen=True, slots=True)
class Entry:
    """One message of a conversation."""

    tenant_id: str
    message_id: str
    conversation_id: str
    property_id: str
    booking_id: str | None
    guest_id: str | None
    direction: str
    """``inbound`` or ``outbound``."""
    channel: str
    author: str | None
    template_id: str | None
    body: str
    at: datetime
    event_id: str

    @classmethod
    def from_row(cls, row: Row) -> Entry:
        return cls(
            tenant_id=row["tenant_id"],
            message_id=row["message_id"],
            conversation_id=row["conversation_id"],
            property_id=row["property_id"],
            booking_id=row["booking_id"],
            guest_id=row["guest_id"],
            direction=row["direction"],
            channel=row["channel"],
            author=row["author"],
            template_id=row["template_id"],
            body=row["body"],
            at=datetime.fromisoformat(row["at"]),
            event_id=row["event_id"],
        )


def record(tx: Tx, entry: Entry) -> bool:
    """Add the message to its conversation; False when it was there already."""
    return (
        tx.execute(
            """
            INSERT INTO conversation_messages (tenant_id, message_id, conversation_id,
                property_id, booking_id, guest_id, direction, channel, author, template_id,
                body, at, event_id, recorded_at)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            ON CONFLICT (tenant_id, message_id) DO NOTHING
            """,
            (
                entry.tenant_id,
                entry.message_id,
                entry.conversation_id,
                entry.property_id,
                entry.booking_id,
                entry.guest_id,
                entry.direction,
                entry.channel,
                entry.author,
                entry.template_id,
                entry.body,
                iso(entry.at),
                entry.event_id,
                now_iso(),
            ),
        )
        == 1
    )


def get(tx: Tx, tenant_id: str, message_id: str) -> Entry | None:
    row = tx.one(
        "SELECT * FROM conversation_messages WHERE tenant_id = ? AND message_id = ?",
        (tenant_id, message_id),
    )
    return None if row is None else Entry.from_row(row)


def history(tx: Tx, tenant_id: str, conversation_id: str) -> list[Entry]:
    """The conversation's messages, oldest first."""
    rows = tx.all(
        "SELECT * FROM conversation_messages WHERE tenant_id = ? AND conversation_id = ? "
        "ORDER BY at, message_id",
        (tenant_id, conversation_id),
    )
    return [Entry.from_row(row) for row in rows]


def last_outbound(
    tx: Tx, tenant_id: str, conversation_id: str, *, since: datetime, until: datetime
) -> Entry | None:
    """The latest message written to the guest in the conversation within [since, until]."""
    row = tx.one(
        "SELECT * FROM conversation_messages WHERE tenant_id = ? AND conversation_id = ? "
        "AND direction = 'outbound' AND at >= ? AND at <= ? ORDER BY at DESC, message_id DESC",
        (tenant_id, conversation_id, iso(since), iso(until)),
    )
    return None if row is None else Entry.from_row(row)


__all__ = ["AUTO_ACK_AUTHOR", "MIGRATIONS", "Entry", "get", "history", "last_outbound", "record"]
