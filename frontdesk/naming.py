"""Topic names: the only place that knows how a queue, tenant, tier or DLQ becomes a name.

Pooled tenants share ``pms.<queue>``; a dedicated tenant gets ``tenant.<id>.<queue>`` so that
one prefixed ACL on ``tenant.<id>.`` covers all of its topics and nothing else. Retry tiers
and the DLQ hang off their main topic, so they inherit the tenant prefix too.

An optional *namespace* (``staging`` -> ``staging.pms.sync``) lets several environments, or
several test runs, share one cluster without sharing topics.

The runtime's internal state topics (held keys, DLQ review state) exist once for the pooled
tenants (``<ns.>frontdesk.held``) and once per dedicated tenant, under its prefix
(``<ns.>tenant.<id>.frontdesk.held``): a dedicated tenant's worker then runs on the
tenant's prefixed ACLs alone, and no tenant can read another's holds. Which copy a record
belongs to follows the topic it is about (`state_owner`), never who writes it.
"""

from __future__ import annotations

import re
from collections.abc import Collection
from dataclasses import dataclass

from frontdesk.queues import QueueType

POOLED_PREFIX = "pms."
TENANT_PREFIX = "tenant."
RETRY_INFIX = ".retry."
DLQ_SUFFIX = ".dlq"
PARKED_SUFFIX = ".parked"
HELD_NAME = "frontdesk.held"
DLQ_STATE_NAME = "frontdesk.dlq.state"
AUDIT_NAME = "frontdesk.audit"

TENANT_ID_RE = re.compile(r"\A[a-z0-9][a-z0-9-]{0,62}\Z")
"""The one tenant-id shape, anchored at the very start and end of the string so that
``match`` and ``fullmatch`` are equally strict (``^...$`` let a trailing newline through);
the id becomes part of topic names, keys and ACL prefixes. Call `validate_tenant_id` or
`is_tenant_id`."""
_DURATION_RE = re.compile(r"(\d+)(ms|s|m|h|d)")
MAX_DURATION_MS = 2**63 - 1
"""Kafka keeps durations (``retention.ms``) as a signed 64-bit count of milliseconds."""
_UNIT_MS = {"ms": 1, "s": 1000, "m": 60_000, "h": 3_600_000, "d": 86_400_000}


def is_tenant_id(value: object) -> bool:
    """Whether ``value`` is a well-formed tenant id (a ``str`` of the one strict shape)."""
    return isinstance(value, str) and TENANT_ID_RE.fullmatch(value) is not None


def validate_tenant_id(tenant_id: str) -> str:
    """Refuse ids that would escape their topic prefix or break a topic name.

    The single tenant-id check: the topology, the event models, routing, the console's
    users and the worker all call this one.
    """
    if not is_tenant_id(tenant_id):
        raise ValueError(
            f"invalid tenant id {tenant_id!r}: use 1-63 lower-case letters, digits and '-', "
            "starting with a letter or digit"
        )
    return tenant_id


NAMESPACE_RE = re.compile(r"\A[a-z0-9][a-z0-9_-]{0,39}\Z")


def validate_namespace(namespace: str) -> str:
    if not isinstance(namespace, str) or not NAMESPACE_RE.fullmatch(namespace):
        raise ValueError(
            f"invalid namespace {namespace!r}: use 1-40 lower-case letters, digits, '-' or '_'"
        )
    return namespace


def _ns(namespace: str | None) -> str:
    return f"{validate_namespace(namespace)}." if namespace else ""


def tenant_prefix(tenant_id: str, namespace: str | None = None) -> str:
    """The prefix every topic of a dedicated tenant starts with (ends in the delimiter, so
    that the ACL for ``t1`` does not also match ``t10``)."""
    return f"{_ns(namespace)}{TENANT_PREFIX}{validate_tenant_id(tenant_id)}."


def main_topic(
    queue: QueueType | str, tenant_id: str | None = None, namespace: str | None = None
) -> str:
    """``pms.<queue>`` for pooled tenants, ``tenant.<id>.<queue>`` for a dedicated one."""
    queue = QueueType(queue)
    if tenant_id is None:
        return f"{_ns(namespace)}{POOLED_PREFIX}{queue.value}"
    return f"{tenant_prefix(tenant_id, namespace)}{queue.value}"


def state_owner(
    topic: str, namespace: str | None = None, known: Collection[str] | None = None
) -> str | None:
    """The dedicated tenant whose internal state topics keep the state of ``topic`` (a
    queue topic or an internal state topic): the tenant whose prefix it is under, or
    ``None`` for the namespace's shared topics and foreign names. With ``known`` (the
    dedicated tenants a topology declares, whose state topics exist), a tenant outside it
    keeps its state in the shared topics, as its events go to the pooled ones."""
    rest = topic.removeprefix(_ns(namespace))
    if rest == topic and namespace:
        return None
    if not rest.startswith(TENANT_PREFIX):
        return None
    tenant, dot, _ = rest[len(TENANT_PREFIX) :].partition(".")
    if not dot or not TENANT_ID_RE.fullmatch(tenant):
        return None
    return tenant if known is None or tenant in known else None


def _internal(name: str, namespace: str | None, tenant_id: str | None) -> str:
    if tenant_id is None:
        return f"{_ns(namespace)}{name}"
    return f"{tenant_prefix(tenant_id, namespace)}{name}"


def held_topic(namespace: str | None = None, tenant_id: str | None = None) -> str:
    """The held-keys state topic: ``<ns.>frontdesk.held`` for pooled tenants,
    ``<ns.>tenant.<id>.frontdesk.held`` for a dedicated one."""
    return _internal(HELD_NAME, namespace, tenant_id)


def dlq_state_topic(namespace: str | None = None, tenant_id: str | None = None) -> str:
    """The DLQ review state topic: ``<ns.>frontdesk.dlq.state`` for pooled tenants,
    ``<ns.>tenant.<id>.frontdesk.dlq.state`` for a dedicated one."""
    return _internal(DLQ_STATE_NAME, namespace, tenant_id)


def audit_topic(namespace: str | None = None) -> str:
    """``<ns.>frontdesk.audit``: the operators' trail of DLQ actions (one per namespace)."""
    return _internal(AUDIT_NAME, namespace, None)


def held_topic_for(
    topic: str, namespace: str | None = None, known: Collection[str] | None = None
) -> str:
    """Where the holds of main topic ``topic`` (and its holders' statuses) are kept."""
    return held_topic(namespace, state_owner(topic, namespace, known))


def dlq_state_topic_for(
    topic: str, namespace: str | None = None, known: Collection[str] | None = None
) -> str:
    """Where the review state of the dead letters in DLQ ``topic`` is kept."""
    return dlq_state_topic(namespace, state_owner(topic, namespace, known))


def retry_topic(main: str, delay: str) -> str:
    """The retry tier of ``main`` that waits ``delay`` (a duration such as ``10s``)."""
    parse_duration_ms(delay)
    return f"{main}{RETRY_INFIX}{delay}"


def dlq_topic(main: str) -> str:
    return f"{main}{DLQ_SUFFIX}"


def parked_topic(main: str) -> str:
    return f"{main}{PARKED_SUFFIX}"


SCHEMAS_SUFFIX = "frontdesk.schemas"


def schemas_topic(namespace: str | None = None) -> str:
    """``<ns.>frontdesk.schemas``: the compacted topic of published writer schemas."""
    return f"{_ns(namespace)}{SCHEMAS_SUFFIX}"


def parse_duration_ms(text: str) -> int:
    """``10s`` -> 10000. Durations are written with one unit, as in the topology file."""
    match = _DURATION_RE.fullmatch(text.strip())
    if match is None:
        raise ValueError(
            f"invalid duration {text!r}: write a whole number and one unit, e.g. 10s, 1m, 1h"
        )
    value = int(match.group(1))
    if value <= 0:
        raise ValueError(f"invalid duration {text!r}: must be positive")
    ms = value * _UNIT_MS[match.group(2)]
    if ms > MAX_DURATION_MS:
        raise ValueError(f"invalid duration {text!r}: longer than Kafka can store")
    return ms


@dataclass(frozen=True, slots=True)
class TopicName:
    """A parsed topic name: which queue and tenant it serves and what role it plays."""

    queue: QueueType
    tenant_id: str | None
    role: str  # "main", "retry", "dlq" or "parked"
    delay: str | None = None
    namespace: str | None = None

    @property
    def main(self) -> str:
        return main_topic(self.queue, self.tenant_id, self.namespace)


def parse_topic(name: str, namespace: str | None = None) -> TopicName | None:
    """Recognise one of our topic names (in ``namespace``); ``None`` for anything else."""
    rest: str
    tenant: str | None
    prefix = _ns(namespace)
    if not name.startswith(prefix):
        return None
    name = name[len(prefix) :]
    if name.startswith(POOLED_PREFIX):
        tenant, rest = None, name[len(POOLED_PREFIX) :]
    elif name.startswith(TENANT_PREFIX):
        tenant, _, rest = name[len(TENANT_PREFIX) :].partition(".")
        if not is_tenant_id(tenant):
            return None
    else:
        return None
    queue_part, _, suffix = rest.partition(".")
    try:
        queue = QueueType(queue_part)
    except ValueError:
        return None
    if suffix == "":
        return TopicName(queue, tenant, "main", None, namespace)
    if suffix == DLQ_SUFFIX[1:]:
        return TopicName(queue, tenant, "dlq", None, namespace)
    if suffix == PARKED_SUFFIX[1:]:
        return TopicName(queue, tenant, "parked", None, namespace)
    if suffix.startswith("retry."):
        delay = suffix[len("retry.") :]
        try:
            parse_duration_ms(delay)
        except ValueError:
            return None
        return TopicName(queue, tenant, "retry", delay, namespace)
    return None
