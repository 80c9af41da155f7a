"""The payments ledger: captures and the refunds against them.

A refund must name a captured payment of the same tenant, in the same currency, and the
refunds of a payment may never add up to more than was captured: money that was never
taken cannot be given back, so such an event is dead-lettered for finance to review
rather than retried. Amounts are stored as decimal text and summed as `Decimal`, exactly.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from consumers.common.errors import TransitionError, UnknownEntityError
from consumers.common.store import Row, Tx, iso
from frontdesk.events import PaymentCaptured, PaymentRefunded

MIGRATIONS = (
    """
    CREATE TABLE IF NOT EXISTS payments (
        tenant_id TEXT NOT NULL,
        payment_id TEXT NOT NULL,
        property_id TEXT NOT NULL,
        booking_id TEXT,
        amount TEXT NOT NULL,
        refunded TEXT NOT NULL,
        currency TEXT NOT NULL,
        method TEXT NOT NULL,
        provider TEXT NOT NULL,
        provider_reference TEXT,
        captured_at TEXT NOT NULL,
        source_event_id TEXT NOT NULL,
        PRIMARY KEY (tenant_id, payment_id)
    )
    """,
    """
    CREATE TABLE IF NOT EXISTS refunds (
        tenant_id TEXT NOT NULL,
        refund_id TEXT NOT NULL,
        payment_id TEXT NOT NULL,
        amount TEXT NOT NULL,
        currency TEXT NOT NULL,
        reason TEXT,
        refunded_at TEXT NOT NULL,
        source_event_id TEXT NOT NULL,
        PRIMARY KEY (tenant_id, refund_id)
    )
    """,
)


@dataclass(frozen=True, slots=True)
class Payment:
    tenant_id: str
    payment_id: str
    booking_id: str | None
    amount: Decimal
    refunded: Decimal
    currency: str

    @property
    def refundable(self) -> Decimal:
        return self.amount - self.refunded

    @classmethod
    def from_row(cls, row: Row) -> Payment:
        return cls(
            tenant_id=row["tenant_id"],
            payment_id=row["payment_id"],
            booking_id=row["booking_id"],
            amount=Decimal(row["amount"]),
            refunded=Decimal(row["refunded"]),
            currency=row["currency"],
        )


def capture(tx: Tx, event: PaymentCaptured) -> None:
    meta = event.meta
    if get(tx, meta.tenant_id, event.payment_id) is not None:
        raise TransitionError(
            f"payment {event.payment_id} was already captured; a second capture "
            f"({meta.event_id}) with the same id is a duplicate, not a new payment"
        )
    tx.execute(
        """
        INSERT INTO payments (tenant_id, payment_id, property_id, booking_id, amount, refunded,
            currency, method, provider, provider_reference, captured_at, source_event_id)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
        """,
        (
            meta.tenant_id,
            event.payment_id,
            meta.property_id,
            event.booking_id,
            str(event.amount),
            str(Decimal("0.00")),
            event.currency,
            event.method.value,
            event.provider,
            event.provider_reference,
            iso(event.captured_at),
            str(meta.event_id),
        ),
    )


def refund(tx: Tx, event: PaymentRefunded) -> None:
    meta = event.meta
    payment = get(tx, meta.tenant_id, event.payment_id)
    if payment is None:
        raise UnknownEntityError(
            f"refund {event.refund_id} is for payment {event.payment_id}, never captured"
        )
    if payment.currency != event.currency:
        raise TransitionError(
            f"refund {event.refund_id} is in {event.currency}, "
            f"payment {event.payment_id} in {payment.currency}"
        )
    if event.amount > payment.refundable:
        raise TransitionError(
            f"refund {event.refund_id} of {event.amount} {event.currency} exceeds what is left "
            f"of payment {event.payment_id}: {payment.amount} captured, "
            f"{payment.refunded} already refunded"
        )
    inserted = tx.execute(
        """
        INSERT INTO refunds (tenant_id, refund_id, payment_id, amount, currency, reason,
            refunded_at, source_event_id)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?)
        ON CONFLICT (tenant_id, refund_id) DO NOTHING
        """,
        (
            meta.tenant_id,
            event.refund_id,
            event.payment_id,
            str(event.amount),
            event.currency,
            event.reason,
            iso(event.refunded_at),
            str(meta.event_id),
        ),
    )
    if inserted != 1:
        raise TransitionError(f"refund {event.refund_id} was already recorded")
    tx.execute(
        "UPDATE payments SET refunded = ? WHERE tenant_id = ? AND payment_id = ?",
        (str(payment.refunded + event.amount), meta.tenant_id, event.payment_id),
    )


def get(tx: Tx, tenant_id: str, payment_id: str) -> Payment | None:
    row = tx.one(
        "SELECT * FROM payments WHERE tenant_id = ? AND payment_id = ?", (tenant_id, payment_id)
    )
    return None if row is None else Payment.from_row(row)


def booking_balance(tx: Tx, tenant_id: str, booking_id: str) -> dict[str, Decimal]:
    """Net money received for a booking (captured minus refunded), per currency."""
    rows = tx.all(
        "SELECT amount, refunded, currency FROM payments WHERE tenant_id = ? AND booking_id = ?",
        (tenant_id, booking_id),
    )
    totals: dict[str, Decimal] = {}
    for row in rows:
        net = Decimal(row["amount"]) - Decimal(row["refunded"])
        totals[row["currency"]] = totals.get(row["currency"], Decimal("0.00")) + net
    return totals


__all__ = ["MIGRATIONS", "Payment", "booking_balance", "capture", "get", "refund"]
