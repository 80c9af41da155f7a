"""Dead-letter review without a broker: ids, filters, decoded views, redrive planning."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from frontdesk import headers as hdr
from frontdesk.dlq import DeadLetter, DeadLetterId, DlqError, DlqFilter, dlq_topics
from frontdesk.dlq.actions import plan_moves, redriven_headers, require_reason
from frontdesk.dlq.store import AuditRecord, StateRecord, audit_topic, state_topic
from tests.support.dlq import dead_letter, topology

T0 = datetime(2025, 7, 1, 12, 0, tzinfo=UTC)
MAIN = "ns.pms.operational"


def _dl(offset: int = 0, at: datetime = T0, **kwargs: Any) -> DeadLetter:
    return dead_letter(MAIN, offset, at, **kwargs)


def test_id_round_trips_and_sorts() -> None:
    dl_id = DeadLetterId.parse("ns.pms.sync.dlq:2:41")
    assert dl_id == DeadLetterId("ns.pms.sync.dlq", 2, 41)
    assert str(dl_id) == "ns.pms.sync.dlq:2:41"
    assert sorted([DeadLetterId("a", 0, 10), DeadLetterId("a", 0, 9)])[0].offset == 9


@pytest.mark.parametrize(
    "text", ["", "topic", "t:1", "t:x:1", "t:1:-1", "bad topic:0:1", ":0:1", "t:²:1", "t:0:\u0661"]
)
def test_bad_ids_are_refused(text: str) -> None:
    with pytest.raises(ValueError, match="invalid dead-letter id"):
        DeadLetterId.parse(text)


def test_queue_resolves_to_pooled_and_dedicated_dlqs() -> None:
    topo = topology("ns")
    assert dlq_topics(topo, ["operational"]) == [
        "ns.pms.operational.dlq",
        "ns.tenant.grand.operational.dlq",
    ]
    assert len(dlq_topics(topo)) == 8


def test_filters_and_within_or_across() -> None:
    acme, zed = _dl(0, tenant="acme"), _dl(1, tenant="zed", reason="bad_magic")
    assert DlqFilter().matches(acme)
    assert DlqFilter().empty
    assert DlqFilter(tenants=frozenset({"acme", "zed"})).matches(zed)
    both = DlqFilter(tenants=frozenset({"zed"}), reasons=frozenset({"retries_exhausted"}))
    assert not both.matches(zed)
    assert DlqFilter(reasons=frozenset({"bad_magic"})).matches(zed)
    assert not DlqFilter(event_types=frozenset({"RateChanged"})).matches(acme)
    assert DlqFilter(ids=frozenset({acme.id})).matches(acme)
    assert not DlqFilter(ids=frozenset({acme.id})).matches(zed)


def test_error_class_matches_short_or_full_name() -> None:
    dl = _dl(error_class="channels.errors.RateLimited")
    assert DlqFilter(error_classes=frozenset({"RateLimited"})).matches(dl)
    assert DlqFilter(error_classes=frozenset({"channels.errors.RateLimited"})).matches(dl)
    assert not DlqFilter(error_classes=frozenset({"Limited"})).matches(dl)


def test_time_window_is_inclusive_exclusive() -> None:
    dl = _dl(at=T0)
    assert DlqFilter(since=T0).matches(dl)
    assert not DlqFilter(until=T0).matches(dl)
    assert DlqFilter(since=T0 - timedelta(hours=1), until=T0 + timedelta(seconds=1)).matches(dl)
    with pytest.raises(ValueError, match="until must be after since"):
        DlqFilter(since=T0, until=T0)


def test_decoded_view_of_an_event() -> None:
    data = _dl(tenant="acme").to_dict()
    assert data["payload"]["meta"]["tenant_id"] == "acme"
    assert data["schema_version"] >= 1
    assert "decode_error" not in data
    assert data["headers"][hdr.REASON] == "retries_exhausted"
    assert data["id"] == f"{MAIN}.dlq:0:0"


def test_undecodable_value_shows_hex_base64_and_the_error() -> None:
    data = _dl(value=b"\x00junk").to_dict()
    assert data["payload"] is None
    assert data["decode_reason"] == "bad_magic"
    assert data["value_hex"] == "006a756e6b"
    assert data["value_base64"] == "AGp1bms="


def test_tenant_ownership_is_strict() -> None:
    mine = _dl(tenant="acme")
    assert mine.owned_by("acme")
    assert not mine.owned_by("zed")
    # The header says acme but key and payload say zed: no tenant may see it.
    mismatch = _dl(tenant="zed", header_tenant="acme")
    assert mismatch.claimed_tenants() == {"acme", "zed"}
    assert not mismatch.owned_by("acme")
    assert not mismatch.owned_by("zed")
    # Where it sits decides: acme's own record in grand's dedicated DLQ is grand's, flagged.
    planted = dead_letter("ns.tenant.grand.operational", tenant="acme")
    assert not planted.owned_by("acme")
    assert not planted.owned_by("grand")
    assert DlqFilter(tenants=frozenset({"grand"})).matches(planted)
    assert DlqFilter(tenants=frozenset({"acme"})).matches(planted)
    assert (
        planted.to_dict()["tenant_mismatch"] == "topic grand, key acme, header acme, payload acme"
    )
    # Two fd-tenant headers are two claims, whichever comes last.
    mine = _dl(tenant="acme")
    doubled = DeadLetter(
        mine.id, T0, mine.key, mine.value, ((hdr.TENANT, b"zed"), *mine.headers), "ns"
    )
    assert doubled.tenancy.mismatch
    # A record in a topic this topology does not name belongs to no tenant.
    assert not dead_letter(MAIN, namespace=None, tenant="acme").owned_by("acme")


def test_history_and_trace_id_come_from_headers() -> None:
    dl = _dl(attempt=3)
    history = dl.history()
    assert history["attempts"] == 3
    assert history["original_topic"] == MAIN
    assert history["first_failure_at"] is not None
    assert dl.trace_id
    assert len(dl.trace_id) == 32


def test_redriven_headers_keep_the_envelope_and_drop_the_failure() -> None:
    dl = _dl()
    names = dict(redriven_headers(dl, T0))
    assert names[hdr.REDRIVEN_FROM] == str(dl.id).encode()
    for kept in (hdr.TENANT, hdr.EVENT_TYPE, hdr.EVENT_ID, hdr.TRACEPARENT):
        assert names[kept] == dl.header(kept).encode()  # type: ignore[union-attr]
    for dropped in (hdr.ATTEMPT, hdr.ERROR_CLASS, hdr.STACK_TRACE, hdr.REASON):
        assert dropped not in names


def test_plan_moves_refuses_misroutes() -> None:
    dl = _dl(tenant="acme")
    assert plan_moves([dl], to=None, existing_topics={MAIN}, namespace="ns")[0].target == MAIN
    with pytest.raises(DlqError, match="does not exist"):
        plan_moves([dl], to=None, existing_topics=set(), namespace="ns")
    tier = f"{MAIN}.retry.10s"
    assert plan_moves([dl], to=tier, existing_topics={tier}, namespace="ns")[0].target == tier


def test_redrive_target_comes_from_the_dlq_topic_not_the_header() -> None:
    """A planted fd-original-topic is ignored: the target is the DLQ's own main topic."""
    for planted in ("ns.frontdesk.dlq.state", "__consumer_offsets", "ns.frontdesk.held", "x"):
        dl = dead_letter(MAIN, tenant="acme")
        forged = DeadLetter(
            dl.id,
            dl.timestamp,
            dl.key,
            dl.value,
            tuple((k, planted.encode() if k == hdr.ORIGINAL_TOPIC else v) for k, v in dl.headers),
            "ns",
        )
        (move,) = plan_moves([forged], to=None, existing_topics={MAIN, planted}, namespace="ns")
        assert move.target == MAIN


@pytest.mark.parametrize(
    ("to", "why"),
    [
        ("ns.pms.operational.dlq", "not a main or retry topic"),
        ("ns.pms.operational.parked", "not a main or retry topic"),
        ("ns.frontdesk.dlq.state", "not a main or retry topic"),
        ("ns.frontdesk.held", "not a main or retry topic"),
        ("ns.frontdesk.audit", "not a main or retry topic"),
        ("__consumer_offsets", "not a main or retry topic"),
        ("pms.operational", "not a main or retry topic"),  # another namespace
        ("ns.tenant.grand.operational", "belongs to tenant grand"),
        ("ns.pms.sync", "of queue sync"),
        ("ns.pms.sync.retry.10s", "of queue sync"),
    ],
)
def test_redrive_to_is_confined_to_the_same_queue_and_tenant(to: str, why: str) -> None:
    dl = _dl(tenant="acme")
    with pytest.raises(DlqError, match=why):
        plan_moves([dl], to=to, existing_topics={to}, namespace="ns")


def test_dedicated_dlq_refuses_other_tenants_topics() -> None:
    grand = dead_letter("ns.tenant.grand.operational", tenant="grand")
    with pytest.raises(DlqError, match="belongs to the pooled tenants"):
        plan_moves([grand], to=MAIN, existing_topics={MAIN}, namespace="ns")
    with pytest.raises(DlqError, match="is not a DLQ topic"):
        plan_moves(
            [dead_letter(MAIN, namespace=None)], to=None, existing_topics={MAIN}, namespace="ns"
        )


def test_a_mismatched_dead_letter_needs_the_topic_tenant_chosen() -> None:
    """acme's record planted in grand's DLQ: refused, or redriven as grand's by choice."""
    main = "ns.tenant.grand.operational"
    planted = dead_letter(main, tenant="acme")
    assert planted.tenancy.mismatch
    assert planted.tenancy.owner == "grand"
    assert planted.tenancy.describe() == "topic grand, key acme, header acme, payload acme"
    with pytest.raises(DlqError, match=r"tenant mismatch .*--tenant-from-topic"):
        plan_moves([planted], to=None, existing_topics={main}, namespace="ns")
    (move,) = plan_moves(
        [planted], to=None, existing_topics={main}, namespace="ns", tenant_from_topic=True
    )
    assert (move.target, move.tenant) == (main, "grand")
    assert dict(redriven_headers(planted, T0, move.tenant))[hdr.TENANT] == b"grand"
    pooled = _dl(tenant="zed", header_tenant="acme")
    with pytest.raises(DlqError, match="pooled DLQ names no tenant"):
        plan_moves(
            [pooled], to=None, existing_topics={MAIN}, namespace="ns", tenant_from_topic=True
        )


def test_state_of_a_planted_dead_letter_releases_nothing() -> None:
    """The runtime releases holds by the state record's key: a mismatched one carries none."""
    planted = dead_letter("ns.tenant.grand.operational", tenant="acme")
    state = StateRecord.of(planted, "discard", actor="a", reason="r", audit_id="x", at=T0)
    assert (state.key, state.original_topic) == (None, "ns.tenant.grand.operational")
    # Its audit entry names both tenants, so neither tenant's users see it on their page.
    audit = AuditRecord.new("discard", [planted], actor="a", reason="r", at=T0)
    assert audit.tenants == ["acme", "grand"]


def test_a_reason_is_required() -> None:
    assert require_reason("  fixed in 1.2 ") == "fixed in 1.2"
    for blank in (None, "", "   "):
        with pytest.raises(ValueError, match="reason is required"):
            require_reason(blank)


def test_state_and_audit_records_round_trip() -> None:
    dl = _dl(tenant="acme")
    audit = AuditRecord.new("release", [dl], actor="ana", reason="give up", at=T0)
    assert AuditRecord.from_json(audit.to_json()) == audit
    assert audit.tenants == ["acme"]
    state = StateRecord.of(dl, "release", actor="ana", reason="x", audit_id=audit.audit_id, at=T0)
    assert StateRecord.from_json(state.to_json()) == state
    assert (state.key, state.original_topic, state.original_partition) == ("acme/p1", MAIN, 0)
    assert (state_topic("ns"), audit_topic(None)) == ("ns.frontdesk.dlq.state", "frontdesk.audit")
