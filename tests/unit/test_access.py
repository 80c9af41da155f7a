"""An authorization failure is one line naming the resource, the operation and the
principal, whichever client met it; a tenant-scoped worker is refused at boot outside its
tenant's prefix."""

from __future__ import annotations

import pytest
from confluent_kafka import KafkaError, KafkaException

import frontdesk
from frontdesk.access import AccessDeniedError, denied, principal
from frontdesk.events import BookingCreated
from frontdesk.topology.model import parse_topology
from frontdesk.worker import PolicyError, Worker, WorkerConfig
from frontdesk.worker.handoff import Forward, HandoffAbortedError, TransactionalCommitter

SASL = {"bootstrap.servers": "127.0.0.1:1", "sasl.username": "acme"}
TOPOLOGY = parse_topology(
    """
cluster: {namespace: stg}
queues: {operational: {retry: {tiers: [1s]}}, automation: {}, sync: {}, fallback: {}}
tenants:
  - {id: acme, mode: dedicated, principal: "User:acme"}
  - {id: small}
"""
)


def test_the_message_names_the_topic_the_operation_and_the_principal() -> None:
    err = KafkaError(KafkaError.TOPIC_AUTHORIZATION_FAILED)
    assert str(denied(err, "stg.tenant.acme.frontdesk.held", "WRITE", SASL)) == (
        "not authorized to write to topic stg.tenant.acme.frontdesk.held (WRITE): "
        "check the ACLs of User:acme"
    )
    group = denied(KafkaError(KafkaError.GROUP_AUTHORIZATION_FAILED), "g", "READ", SASL)
    assert str(group).startswith("not authorized to read group g (READ)")
    assert principal({}) == "this client's principal"


def test_a_refused_record_of_a_checkpoint_is_named_not_retried() -> None:
    committer = TransactionalCommitter(SASL, "stg.tenant.acme.frontdesk.app.w1", 5.0, "g")
    forward = Forward("stg.tenant.acme.frontdesk.held", b"k", b"v", [], "state", "hold")
    committer._delivery_callback(forward)(KafkaError(KafkaError.TOPIC_AUTHORIZATION_FAILED), None)
    error = committer._classify(KafkaException(KafkaError(KafkaError._STATE)))
    assert isinstance(error, AccessDeniedError)
    assert "write to topic stg.tenant.acme.frontdesk.held (WRITE)" in str(error)
    # Once named, the next failure is judged on its own.
    later = committer._classify(KafkaException(KafkaError(KafkaError._STATE)))
    assert isinstance(later, HandoffAbortedError)
    txn = KafkaError(KafkaError.TRANSACTIONAL_ID_AUTHORIZATION_FAILED)
    assert "transactional id stg.tenant.acme.frontdesk.app.w1 (WRITE)" in str(
        committer._classify(KafkaException(txn))
    )


app = frontdesk.App("app", queue="operational", topology=TOPOLOGY)


@app.handler(BookingCreated)
async def on_booking(event: BookingCreated, ctx: frontdesk.Context) -> None: ...


def test_a_tenants_worker_uses_names_under_its_prefix_only() -> None:
    worker = Worker(app, config=WorkerConfig(tenant="acme", worker_id="w1"), client_config=SASL)
    assert worker.group_id == "stg.tenant.acme.frontdesk.app"
    assert worker.transactional_id == "stg.tenant.acme.frontdesk.app.w1"
    required, optional = worker._needs()
    assert all(t.startswith("stg.tenant.acme.") for t in [*required, *optional])
    assert required["stg.tenant.acme.frontdesk.held"] == ("READ", "WRITE")
    assert required["stg.tenant.acme.frontdesk.dlq.state"] == ("READ",)


@pytest.mark.parametrize(
    ("config", "expected"),
    [
        (WorkerConfig(tenant="small"), "not a dedicated tenant"),
        (WorkerConfig(tenant="acme", group_id="stg.frontdesk.app"), "not under tenant acme"),
    ],
)
def test_a_worker_outside_its_tenants_prefix_is_refused(
    config: WorkerConfig, expected: str
) -> None:
    with pytest.raises(PolicyError, match=expected):
        Worker(app, config=config, client_config=SASL)


def test_a_consumer_authorization_error_stops_the_worker_with_the_topic_named() -> None:
    worker = Worker(app, config=WorkerConfig(tenant="acme"), client_config=SASL)
    worker._on_consumer_error(
        KafkaError(KafkaError.TOPIC_AUTHORIZATION_FAILED), "stg.tenant.acme.operational"
    )
    assert str(worker._fatal) == (
        "not authorized to read topic stg.tenant.acme.operational (READ): "
        "check the ACLs of User:acme"
    )
