"""Redrive, discard and release: plan first, then write everything in one transaction.

Order of a real action, in one Kafka transaction: (1) for a redrive, produce each dead
letter's original key and value bytes to its target topic with its original envelope
headers (tenant, event type, event id, schema, trace context), no failure history (the
attempt count starts again) and ``fd-redriven-from`` = the dead-letter id; (2) write one
state record per dead letter; (3) write one audit record. Committing them together means a
crash cannot leave an event redriven but still listed as open (and redriven twice), nor
marked handled without having moved. A dry run computes the same plan and writes nothing.
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from confluent_kafka import KafkaException, Producer

from frontdesk import headers as hdr
from frontdesk import naming
from frontdesk.dlq.model import ENVELOPE_HEADERS, DeadLetter
from frontdesk.dlq.reader import DlqError
from frontdesk.dlq.store import (
    Action,
    AuditRecord,
    StateRecord,
    audit_topic,
    now,
)
from frontdesk.replay.timing import to_millis

_TIMEOUT = 30.0


@dataclass(frozen=True, slots=True)
class Move:
    """One dead letter and the topic a redrive sends it to."""

    dead_letter: DeadLetter
    target: str
    tenant: str | None = None
    """The ``fd-tenant`` the redriven record carries when an operator chose the topic's
    tenant for a mismatched dead letter; None keeps the original header."""


@dataclass(slots=True)
class ActionResult:
    """What an action did, or (``dry_run``) would do."""

    action: Action
    dead_letters: list[DeadLetter]
    moves: list[Move] = field(default_factory=list)
    audit: AuditRecord | None = None
    """None for a dry run: nothing was written."""
    dry_run: bool = False

    def to_dict(self) -> dict[str, Any]:
        return {
            "action": self.action,
            "dry_run": self.dry_run,
            "count": len(self.dead_letters),
            "ids": [str(d.id) for d in self.dead_letters],
            "moves": [{"id": str(m.dead_letter.id), "to": m.target} for m in self.moves],
            "audit_id": self.audit.audit_id if self.audit else None,
        }


def require_reason(reason: str | None) -> str:
    """Every action says why; an empty or blank reason is refused before anything happens."""
    if reason is None or not reason.strip():
        raise ValueError("a reason is required: say why (it goes to the audit log)")
    return reason.strip()


def plan_moves(
    dead_letters: Sequence[DeadLetter],
    *,
    to: str | None,
    existing_topics: set[str],
    namespace: str | None,
    tenant_from_topic: bool = False,
) -> list[Move]:
    """Where each dead letter goes; refuses a plan that would misroute or leak an event.

    The target is derived from the DLQ topic the record sits in (the main topic of that
    queue, for that tenant), never from a header: a tenant writes its dead letters' headers
    itself and could otherwise aim a redrive at any topic. ``to`` may only pick a main or
    retry topic of the same queue and tenant. A dead letter whose key, header or payload
    disagree with its topic is refused unless ``tenant_from_topic``: then it goes out as
    its dedicated topic's tenant (a pooled topic names none, so there it stays refused).
    """
    moves = []
    for dead_letter in dead_letters:
        source = _source(dead_letter)
        target = source.main if to is None else _checked_to(dead_letter, source, to, namespace)
        if target not in existing_topics:
            raise DlqError(f"cannot redrive {dead_letter.id}: topic {target} does not exist")
        tenancy = dead_letter.tenancy
        tenant = None
        if tenancy.mismatch:
            if not (tenant_from_topic and tenancy.topic_tenant):
                hint = (
                    f"choose the topic's tenant (--tenant-from-topic) to redrive it as "
                    f"{tenancy.topic_tenant}'s"
                    if tenancy.topic_tenant
                    else "a pooled DLQ names no tenant: discard it instead"
                )
                raise DlqError(
                    f"refusing to redrive {dead_letter.id}: tenant mismatch "
                    f"({tenancy.describe()}); {hint}"
                )
            tenant = tenancy.topic_tenant
        moves.append(Move(dead_letter, target, tenant))
    return moves


def _source(dead_letter: DeadLetter) -> naming.TopicName:
    """The parsed DLQ topic the dead letter sits in; only those can be redriven."""
    topic = dead_letter.tenancy.topic
    if topic is None or topic.role != "dlq":
        raise DlqError(
            f"cannot redrive {dead_letter.id}: {dead_letter.id.topic} is not a DLQ topic of "
            "this topology"
        )
    return topic


def _checked_to(dead_letter: DeadLetter, source: naming.TopicName, to: str, ns: str | None) -> str:
    """``to`` if it is a main or retry topic of the dead letter's own queue and tenant."""
    allowed = f"{source.main} or one of its retry tiers"
    parsed = naming.parse_topic(to, ns)
    refused = f"refusing to redrive {dead_letter.id} to {to!r}"
    if parsed is None or parsed.role not in ("main", "retry"):
        raise DlqError(f"{refused}: not a main or retry topic; --to takes {allowed}")
    if parsed.tenant_id != source.tenant_id:
        owner = f"tenant {parsed.tenant_id}" if parsed.tenant_id else "the pooled tenants"
        raise DlqError(f"{refused}: it belongs to {owner}; --to takes {allowed}")
    if parsed.queue != source.queue:
        raise DlqError(f"{refused}: it is of queue {parsed.queue.value}; --to takes {allowed}")
    return to


def redriven_headers(
    dead_letter: DeadLetter, at: datetime, tenant: str | None = None
) -> list[tuple[str, bytes]]:
    """The original envelope headers, plus where and when the redrive came from.

    Failure headers (attempt, error, original offsets) are dropped: to the runtime the
    redriven record is a first delivery, so it gets the full retry budget again. ``tenant``
    replaces ``fd-tenant`` (an operator's choice for a mismatched dead letter).
    """
    kept = [(k, v or b"") for k, v in dead_letter.headers if k in ENVELOPE_HEADERS]
    updates = {hdr.REDRIVEN_FROM: str(dead_letter.id), hdr.REDRIVEN_AT: str(to_millis(at))}
    if tenant is not None:
        updates[hdr.TENANT] = tenant
    return hdr.replace(kept, updates)


def execute(
    config: dict[str, Any],
    namespace: str | None,
    action: Action,
    dead_letters: Sequence[DeadLetter],
    *,
    actor: str,
    reason: str,
    moves: Sequence[Move] = (),
    target: str | None = None,
    source: str = "cli",
    known: Collection[str] | None = None,
) -> ActionResult:
    """Write the moves, the state records and the audit record, all or nothing. ``known``:
    the dedicated tenants with state topics of their own (`naming.state_owner`)."""
    at = now()
    audit = AuditRecord.new(
        action, dead_letters, actor=actor, reason=reason, at=at, target=target, source=source
    )
    producer = Producer(
        {
            **config,
            # A fresh id per action: nothing to fence, the transaction is for atomicity.
            "transactional.id": f"frontdesk-dlq-{uuid.uuid4().hex}",
            # The partitioner every frontdesk producer uses, so a redriven event lands on
            # the partition its key maps to, behind nothing and before later events.
            "partitioner": "murmur2_random",
        }
    )
    try:
        producer.init_transactions(_TIMEOUT)
        producer.begin_transaction()
        for move in moves:
            dl = move.dead_letter
            headers: list[tuple[str, str | bytes | None]] = [*redriven_headers(dl, at, move.tenant)]
            producer.produce(move.target, key=dl.key, value=dl.value, headers=headers)
        redriven_to = {str(m.dead_letter.id): m.target for m in moves}
        for dl in dead_letters:
            record = StateRecord.of(
                dl,
                action,
                actor=actor,
                reason=reason,
                audit_id=audit.audit_id,
                at=at,
                redriven_to=redriven_to.get(str(dl.id)),
            )
            # Beside the DLQ it describes: a dedicated tenant's state is under its prefix.
            topic = naming.dlq_state_topic_for(dl.id.topic, namespace, known)
            producer.produce(topic, key=str(dl.id), value=record.to_json())
        producer.produce(audit_topic(namespace), key=audit.audit_id, value=audit.to_json())
        producer.commit_transaction(_TIMEOUT)
    except KafkaException as exc:
        with contextlib.suppress(KafkaException):  # the original error is the one to report
            producer.abort_transaction(_TIMEOUT)
        raise DlqError(f"{action} failed, nothing was changed: {exc.args[0]}") from exc
    return ActionResult(action, list(dead_letters), list(moves), audit)
