"""`DlqReview`: the one entry point the CLI and the console share.

It ties the cluster config, the topology (which DLQ topics exist, the namespace of the
state/audit topics) and the review state together, so that both front-ends apply the same
rules: handled dead letters are hidden unless asked for, actions need a reason, bulk
actions need a filter or an explicit ``all``, and a handled dead letter is not acted on
twice.
"""

from __future__ import annotations

import getpass
import os
from collections.abc import Iterable, Sequence
from typing import Any

from confluent_kafka.admin import AdminClient

from frontdesk import naming
from frontdesk.dlq import actions
from frontdesk.dlq.actions import ActionResult
from frontdesk.dlq.ids import DeadLetterId
from frontdesk.dlq.model import DeadLetter
from frontdesk.dlq.query import DlqFilter, dlq_topics
from frontdesk.dlq.reader import DlqError, existing_topics, reader_consumer, scan
from frontdesk.dlq.store import (
    Action,
    AuditTrail,
    StateRecord,
    ensure_topics,
    read_audit,
    read_state,
)
from frontdesk.queues import QueueType
from frontdesk.topology import Topology


def default_actor() -> str:
    """``$USER``, else the login name: who the audit log says acted."""
    return os.environ.get("USER") or getpass.getuser()


class DlqReview:
    """Read, filter and act on dead letters of one cluster and topology."""

    def __init__(self, config: dict[str, Any], topology: Topology) -> None:
        self.config = config
        self.topology = topology

    @property
    def namespace(self) -> str | None:
        return self.topology.namespace

    def topics(
        self, queues: Iterable[QueueType | str] = (), topics: Iterable[str] = ()
    ) -> list[str]:
        """Explicit ``topics``, else the DLQ topics of ``queues`` (all queues when none)."""
        named = list(topics)
        return named if named else dlq_topics(self.topology, queues)

    def existing(self, topics: Iterable[str]) -> list[str]:
        consumer = reader_consumer(self.config)
        try:
            return existing_topics(consumer, topics)
        finally:
            consumer.close()

    def state(self) -> dict[DeadLetterId, StateRecord]:
        """Review state across tenants: the shared state topic and each dedicated tenant's."""
        return read_state(self.config, self.namespace, self.topology.state_owners())

    def audit(self, last: int = 200) -> AuditTrail:
        return read_audit(self.config, self.namespace, last=last)

    def dead_letters(
        self,
        topics: Sequence[str],
        query: DlqFilter | None = None,
        *,
        include_handled: bool = False,
        skip_missing: bool = False,
        state: dict[DeadLetterId, StateRecord] | None = None,
    ) -> list[DeadLetter]:
        """Matching dead letters sorted by id; handled ones only with ``include_handled``."""
        if state is None and not include_handled:
            state = self.state()
        found = [
            d
            for d in scan(
                self.config, topics, query, skip_missing=skip_missing, namespace=self.namespace
            )
            if include_handled or state is None or d.id not in state
        ]
        return sorted(found, key=lambda d: d.id)

    def get(self, dl_id: DeadLetterId | str) -> DeadLetter:
        return self.get_many([dl_id])[0]

    def get_many(self, ids: Iterable[DeadLetterId | str]) -> list[DeadLetter]:
        """The dead letters at ``ids``, in that order, read in one scan; DlqError if any is
        missing (its topic does not exist, or no record is at that offset any more)."""
        wanted = list(
            dict.fromkeys(DeadLetterId.parse(i) if isinstance(i, str) else i for i in ids)
        )
        topics = sorted({i.topic for i in wanted})
        absent = set(topics) - set(self.existing(topics))
        if absent:
            raise DlqError(f"no such topic: {', '.join(sorted(absent))}")
        query = DlqFilter(ids=frozenset(wanted))
        found = {d.id: d for d in scan(self.config, topics, query, namespace=self.namespace)}
        missing = [str(i) for i in wanted if i not in found]
        if missing:
            raise DlqError(f"no dead letter at {', '.join(missing)} (any more)")
        return [found[i] for i in wanted]

    def check_open(
        self,
        ids: Iterable[DeadLetterId],
        state: dict[DeadLetterId, StateRecord] | None = None,
    ) -> None:
        """Refuse ids already handled: acting twice (a second redrive) duplicates events."""
        state = self.state() if state is None else state
        handled = [i for i in ids if i in state]
        if handled:
            first = state[handled[0]]
            raise DlqError(
                f"{handled[0]} was already handled ({first.action} by {first.actor} at "
                f"{first.at}); {len(handled)} of those given are not open"
            )

    def select(
        self,
        topics: Sequence[str],
        *,
        ids: Iterable[DeadLetterId | str] = (),
        query: DlqFilter | None = None,
        all_: bool = False,
    ) -> list[DeadLetter]:
        """The open dead letters an action applies to.

        Named ``ids`` must exist and be open (acting twice on one is refused: a second
        redrive would duplicate the event). Without ids, the filter selects from
        ``topics``; an empty filter selects everything only with ``all_``, so that a
        forgotten option cannot redrive or discard a whole DLQ.
        """
        query = query or DlqFilter()
        wanted = [DeadLetterId.parse(i) if isinstance(i, str) else i for i in ids]
        state = self.state()
        if wanted:
            self.check_open(wanted, state)
            return [d for d in self.get_many(wanted) if query.matches(d)]
        if query.empty and not all_:
            raise ValueError("name dead-letter ids, give a filter, or pass --all")
        return self.dead_letters(topics, query, state=state)

    def redrive(
        self,
        dead_letters: Sequence[DeadLetter],
        *,
        reason: str | None,
        actor: str | None = None,
        to: str | None = None,
        tenant_from_topic: bool = False,
        dry_run: bool = False,
        source: str = "cli",
    ) -> ActionResult:
        """Send each dead letter back to the main topic of its DLQ (or ``to``, a main or
        retry topic of the same queue and tenant) and mark it handled."""
        why = actions.require_reason(reason)
        moves = actions.plan_moves(
            dead_letters,
            to=to,
            existing_topics=set(self.existing(self._candidates(dead_letters, to))),
            namespace=self.namespace,
            tenant_from_topic=tenant_from_topic,
        )
        if dry_run:
            return ActionResult("redrive", list(dead_letters), moves, dry_run=True)
        return self._execute(
            "redrive", dead_letters, why, actor, moves=moves, target=to or "original", source=source
        )

    @staticmethod
    def _candidates(dead_letters: Sequence[DeadLetter], to: str | None) -> list[str]:
        """The topics a redrive may write to, whose existence `plan_moves` checks."""
        if to:
            return [to]
        parsed = (d.tenancy.topic for d in dead_letters)
        return sorted({t.main for t in parsed if t is not None})

    def discard(
        self,
        dead_letters: Sequence[DeadLetter],
        *,
        reason: str | None,
        actor: str | None = None,
        dry_run: bool = False,
        source: str = "cli",
    ) -> ActionResult:
        """Mark dead letters as given up on; the records stay until retention removes them."""
        return self._mark("discard", dead_letters, reason, actor, dry_run=dry_run, source=source)

    def release(
        self,
        dead_letters: Sequence[DeadLetter],
        *,
        reason: str | None,
        actor: str | None = None,
        dry_run: bool = False,
        source: str = "cli",
    ) -> ActionResult:
        """Give up on ordered dead letters so the runtime lets their keys' parked events go."""
        return self._mark("release", dead_letters, reason, actor, dry_run=dry_run, source=source)

    def _mark(
        self,
        action: Action,
        dead_letters: Sequence[DeadLetter],
        reason: str | None,
        actor: str | None,
        *,
        dry_run: bool,
        source: str,
    ) -> ActionResult:
        why = actions.require_reason(reason)
        if dry_run:
            return ActionResult(action, list(dead_letters), dry_run=True)
        return self._execute(action, dead_letters, why, actor, source=source)

    def _execute(
        self,
        action: Action,
        dead_letters: Sequence[DeadLetter],
        reason: str,
        actor: str | None,
        *,
        moves: Sequence[actions.Move] = (),
        target: str | None = None,
        source: str,
    ) -> ActionResult:
        if not dead_letters:
            return ActionResult(action, [])
        known = self.topology.dedicated_ids
        owners = {naming.state_owner(d.id.topic, self.namespace, known) for d in dead_letters}
        ensure_topics(
            AdminClient(self.config),
            self.namespace,
            self.topology.cluster.replication_factor,
            sorted(owners, key=lambda o: o or ""),
        )
        return actions.execute(
            self.config,
            self.namespace,
            action,
            dead_letters,
            actor=actor or default_actor(),
            reason=reason,
            moves=moves,
            target=target,
            source=source,
            known=known,
        )
