"""Dead-letter review: list, inspect, redrive, release and discard, with an audit trail.

The library behind ``frontdesk dlq`` and the web console. A dead letter is named by where
it sits (``<topic>:<partition>:<offset>``); since Kafka cannot delete one record, what was
done with it is written to a compacted state topic and every action to an audit topic
(`frontdesk.dlq.store` describes both; the worker runtime reads the state topic to release
held keys)::

    review = DlqReview(client_config(), load_topology("deploy/topology.yaml"))
    acme = DlqFilter(tenants=frozenset({"acme"}))
    open_ = review.dead_letters(review.topics(["operational"]), acme)
    review.redrive(open_[:1], reason="fixed the handler in 1.4.2", dry_run=True)
"""

from frontdesk.dlq.actions import ActionResult, Move
from frontdesk.dlq.ids import DeadLetterId
from frontdesk.dlq.model import DeadLetter, Decoded
from frontdesk.dlq.query import DlqFilter, dlq_topics
from frontdesk.dlq.reader import DlqError
from frontdesk.dlq.review import DlqReview, default_actor
from frontdesk.dlq.store import (
    ACTIONS,
    Action,
    AuditRecord,
    AuditTrail,
    StateRecord,
    audit_topic,
    ensure_topics,
    state_topic,
)

__all__ = [
    "ACTIONS",
    "Action",
    "ActionResult",
    "AuditRecord",
    "AuditTrail",
    "DeadLetter",
    "DeadLetterId",
    "Decoded",
    "DlqError",
    "DlqFilter",
    "DlqReview",
    "Move",
    "StateRecord",
    "audit_topic",
    "default_actor",
    "dlq_topics",
    "ensure_topics",
    "state_topic",
]
