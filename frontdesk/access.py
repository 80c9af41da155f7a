"""Authorization failures as one line that names the resource, the operation and the principal.

The broker answers a missing ACL with a bare code (``TOPIC_AUTHORIZATION_FAILED``), which
names neither the topic nor what was attempted; a worker that only logged it would retry
forever without telling anyone what to grant. Every client of the worker (its consumer,
its producers, its admin calls) turns such an answer into `AccessDeniedError`, and a
worker checks up front (`check_topics`, `check_group`) that its principal may do what it
will do, so that a missing grant stops it at once with the line an operator needs.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

from confluent_kafka import KafkaError, KafkaException, TopicCollection
from confluent_kafka.admin import AdminClient

from frontdesk.errors import FrontdeskError

_TIMEOUT = 30.0

DENIED: dict[int, str] = {
    KafkaError.TOPIC_AUTHORIZATION_FAILED: "topic",
    KafkaError.GROUP_AUTHORIZATION_FAILED: "group",
    KafkaError.TRANSACTIONAL_ID_AUTHORIZATION_FAILED: "transactional id",
    KafkaError.CLUSTER_AUTHORIZATION_FAILED: "cluster",
}
"""Error codes of a refused authorization, and the kind of resource each is about."""

_VERBS = {
    "READ": "read",
    "WRITE": "write to",
    "DESCRIBE": "describe",
    "CREATE": "create",
}


class AccessDeniedError(FrontdeskError):
    """The broker refused an operation for lack of an ACL."""

    def __init__(self, kind: str, name: str, operation: str, principal: str) -> None:
        verb = _VERBS.get(operation, operation.lower())
        target = kind if kind == "cluster" else f"{kind} {name}"
        super().__init__(
            f"not authorized to {verb} {target} ({operation}): check the ACLs of {principal}"
        )
        self.kind = kind
        self.name = name
        self.operation = operation
        self.principal = principal


def principal(config: Mapping[str, Any]) -> str:
    """The principal a client config authenticates as, as ACLs name it."""
    user = config.get("sasl.username")
    return f"User:{user}" if user else "this client's principal"


def is_denied(err: KafkaError | None) -> bool:
    return err is not None and err.code() in DENIED


def denied(
    err: KafkaError, name: str, operation: str, config: Mapping[str, Any]
) -> AccessDeniedError:
    """`AccessDeniedError` for ``err`` (an authorization failure) on resource ``name``."""
    return AccessDeniedError(DENIED.get(err.code(), "resource"), name, operation, principal(config))


def _operations(found: Any) -> set[str] | None:
    ops = getattr(found, "authorized_operations", None)
    if ops is None:
        return None  # the broker did not say: leave it to the first real call
    return {op.name for op in ops}


def check_topics(
    admin: AdminClient, needs: Mapping[str, tuple[str, ...]], config: Mapping[str, Any]
) -> list[str]:
    """The topics of ``needs`` that do not exist; raises `AccessDeniedError` for the first
    operation (``READ``, ``WRITE``, ...) the principal may not perform on one that does.

    A principal that may not even describe a topic is told it exists or not either way
    (the broker does not reveal it): that is reported as a refused ``DESCRIBE``.
    """
    names = list(needs)
    if not names:
        return []
    futures = admin.describe_topics(
        TopicCollection(names), include_authorized_operations=True, request_timeout=_TIMEOUT
    )
    missing = []
    for name in names:
        try:
            found = futures[name].result(timeout=_TIMEOUT)
        except KafkaException as exc:
            err: KafkaError = exc.args[0]
            if err.code() == KafkaError.UNKNOWN_TOPIC_OR_PART:
                missing.append(name)
                continue
            if is_denied(err):
                raise denied(err, name, "DESCRIBE", config) from exc
            raise
        allowed = _operations(found)
        if allowed is None or "ALL" in allowed:
            continue
        for operation in needs[name]:
            if operation not in allowed:
                raise AccessDeniedError("topic", name, operation, principal(config))
    return missing


def check_group(admin: AdminClient, group: str, config: Mapping[str, Any]) -> None:
    """Raises `AccessDeniedError` unless the principal may join and commit as ``group``.

    A coordinator still loading (a broker just started) is asked again for a while; an
    answer that says nothing about access leaves the check to the consumer's first call.
    """
    deadline = time.monotonic() + _TIMEOUT
    while True:
        future = admin.describe_consumer_groups(
            [group], include_authorized_operations=True, request_timeout=_TIMEOUT
        )[group]
        try:
            found = future.result(timeout=_TIMEOUT)
            break
        except KafkaException as exc:
            err: KafkaError = exc.args[0]
            if is_denied(err):
                raise denied(err, group, "READ", config) from exc
            if not err.retriable() or time.monotonic() > deadline:
                return
            time.sleep(0.2)
    allowed = _operations(found)
    if allowed is not None and "ALL" not in allowed and "READ" not in allowed:
        raise AccessDeniedError("group", group, "READ", principal(config))


__all__ = [
    "DENIED",
    "AccessDeniedError",
    "check_group",
    "check_topics",
    "denied",
    "is_denied",
    "principal",
]
