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
) -> list[Move]:
    """Where each dead letter goes; refuses a plan that would misroute or leak an event."""
    moves = []
    for dead_letter in dead_letters:
        target = to or dead_letter.original_topic
        if not target:
            raise DlqError(
                f"{dead_letter.id} has no {hdr.ORIGINAL_TOPIC} header: say where with --to"
            )
        if target not in existing_topics:
            raise DlqError(f"cannot redrive {dead_letter.id}: topic {target} does not exist")
        parsed = naming.parse_topic(target, namespace)
        if parsed is not None and parsed.role == "dlq":
            raise DlqError(f"refusing to redrive {dead_letter.id} into another DLQ ({target})")
        if parsed is not None and parsed.tenant_id and parsed.tenant_id != dead_letter.tenant:
            raise DlqError(
                f"refusing to redrive {dead_letter.id} (tenant {dead_letter.tenant}) into "
                f"{target}, which belongs to tenant {parsed.tenant_id}"
            )
        moves.append(Move(dead_letter, target))
    return moves


def redriven_headers(dead_letter: DeadLetter, at: datetime) -> list[tuple[str, bytes]]:
    """The original envelope headers, plus where and when the redrive came from.

    Failure headers (attempt, error, original offsets) are dropped: to the runtime the
    redriven record is a first delivery, so it gets the full retry budget again.
    """
    kept = [(k, v or b"") for k, v in dead_letter.headers if k in ENVELOPE_HEADERS]
    return hdr.replace(
        kept, {hdr.REDRIVEN_FROM: str(dead_letter.id), hdr.REDRIVEN_AT: str(to_millis(at))}
    )


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
            headers: list[tuple[str, str | bytes | None]] = [*redriven_headers(dl, at)]
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
