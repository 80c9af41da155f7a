"""Helpers for the secure broker (SASL/SCRAM and ACLs): tenant users and their clients."""

from __future__ import annotations

import time
from typing import Any

from confluent_kafka import Consumer, KafkaError, KafkaException
from confluent_kafka.admin import AdminClient
from confluent_kafka.admin._scram import (
    ScramCredentialInfo,
    ScramMechanism,
    UserScramCredentialUpsertion,
)

from tests.support.kafka import Cluster


def add_user(admin: AdminClient, name: str, password: str) -> None:
    """A SCRAM-SHA-512 user the broker authenticates (its principal is ``User:<name>``)."""
    upsert = UserScramCredentialUpsertion(
        name, ScramCredentialInfo(ScramMechanism.SCRAM_SHA_512, 4096), password.encode()
    )
    for future in admin.alter_user_scram_credentials([upsert]).values():
        future.result(timeout=30)


def as_user(cluster: Cluster, user: str, password: str) -> dict[str, Any]:
    """The cluster's client config, authenticated as ``user`` instead of the admin."""
    return {**cluster.config, "sasl.username": user, "sasl.password": password}


def retry(check: Any, attempts: int = 20) -> Any:
    """ACLs and SCRAM credentials propagate asynchronously: retry the first use briefly."""
    for _ in range(attempts - 1):
        try:
            return check()
        except (AssertionError, KafkaException):
            time.sleep(0.5)
    return check()


def consume_first(conf: dict[str, Any], topic: str, group: str) -> KafkaError | bytes:
    """The first thing subscribing to ``topic`` in ``group`` gives: a record's value, or
    the error the broker answers (e.g. ``TOPIC_AUTHORIZATION_FAILED``)."""
    consumer = Consumer({**conf, "group.id": group, "auto.offset.reset": "earliest"})
    consumer.subscribe([topic])
    try:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            msg = consumer.poll(0.5)
            if msg is None:
                continue
            if msg.error():
                error: KafkaError = msg.error()
                return error
            value: bytes = msg.value()
            return value
        raise AssertionError("neither a record nor an error within 20 s")
    finally:
        consumer.close()
