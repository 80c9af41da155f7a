"""Fuzz: any record in a DLQ topic can be read, filtered, acted on and shown, escaped.

A dedicated tenant writes its own DLQ topic, so a dead letter's key, value, headers (every
``fd-*`` runtime header included) and timestamp are whatever it chose. The DLQ reader's
record model (`to_dead_letter` over a real `confluent_kafka.Message`), the filters, the
tenancy check, the state/audit records and the console's event page (`event_context`
rendered with the real ``event.html``) must take all of it: no exception escapes, and no
byte of the record reaches the page as markup.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest
from confluent_kafka import Message
from hypothesis import given
from hypothesis import strategies as st

from frontdesk import headers as hdr
from frontdesk.codec import encode
from frontdesk.console.app import TEMPLATES, event_context
from frontdesk.console.users import Role, User
from frontdesk.dlq import AuditRecord, DlqFilter, StateRecord
from frontdesk.dlq.actions import plan_moves, redriven_headers
from frontdesk.dlq.reader import DlqError, to_dead_letter
from tests.support.dlq import booking, topology

MARK = "<x-fuzz>"
"""Markup planted in tenant-written bytes: it must never appear unescaped on a page."""

TOPICS = [
    "ns.pms.operational.dlq",
    "ns.tenant.grand.operational.dlq",
    "ns.tenant.grand.sync.dlq",
    "ns.pms.operational",
    "other.pms.sync.dlq",
    "__consumer_offsets",
]
HEADER_NAMES = sorted(
    {v for k, v in vars(hdr).items() if k.isupper() and isinstance(v, str)} | {"x-custom"}
)
TOPOLOGY = topology("ns")
OPERATOR = User("ops", Role.OPERATOR, None, "scrypt$")
TENANT = User("grand-ops", Role.TENANT, "grand", "scrypt$")

texts = st.one_of(
    st.text(max_size=40),
    st.sampled_from(["acme", "grand", "acme/p1", "grand/p1", "0", "-1", "9" * 5000]),
    st.sampled_from(["²", "\u0661\u0662", "1_000", " 7", "99999999999999999999", "-0"]),
    st.sampled_from(["ns.pms.operational", "ns.frontdesk.dlq.state", "__consumer_offsets"]),
    st.sampled_from(["00-" + "a" * 32 + "-" + "b" * 16 + "-01", "00-x-y-z", "----"]),
).flatmap(lambda t: st.sampled_from([t, t + MARK, MARK + t]))
raw = st.one_of(
    texts.map(lambda t: t.encode("utf-8", "surrogatepass")),
    st.binary(max_size=64),
    st.just(b"\xc3\x01" + b"\x00" * 8),
)
values = st.one_of(
    st.none(),
    raw,
    st.builds(
        lambda tenant, name: encode(booking(tenant).model_copy(update={"booking_id": name})),
        st.sampled_from(["acme", "grand", "zed"]),
        st.just(MARK),
    ),
    st.builds(
        lambda tenant, cut: encode(booking(tenant))[:cut],
        st.sampled_from(["acme", "grand"]),
        st.integers(0, 40),
    ),
)
headers = st.lists(
    st.tuples(
        st.one_of(st.sampled_from(HEADER_NAMES), st.text(max_size=12)), st.one_of(st.none(), raw)
    ),
    max_size=12,
)


def _message(draw: Any) -> Message:
    return Message(
        topic=draw(st.sampled_from(TOPICS)),
        partition=draw(st.integers(0, 2**31 - 1)),
        offset=draw(st.integers(0, 2**63 - 1)),
        key=draw(st.one_of(st.none(), raw)),
        value=draw(values),
        headers=draw(headers),
        timestamp=(1, draw(st.integers(-(2**63), 2**63 - 1))),
    )


messages = st.composite(_message)()


SLOW = pytest.mark.timeout(3600)
"""``make fuzz`` runs thousands of examples per test: more than the suite's 300 s default."""


@pytest.mark.fuzz
@SLOW
@given(msg=messages, namespace=st.sampled_from(["ns", None]))
def test_any_dlq_record_is_readable(msg: Message, namespace: str | None) -> None:
    dl = to_dead_letter(msg, namespace)
    data = dl.to_dict()
    json.dumps(data, default=str)
    dl.history()
    tenancy = dl.tenancy
    assert tenancy.describe()
    for tenant in ("acme", "grand", ""):
        dl.owned_by(tenant)
        DlqFilter(tenants=frozenset({tenant}), reasons=frozenset({"x"})).matches(dl)
    if tenancy.mismatch:
        assert not dl.owned_by("acme")
        assert not dl.owned_by("grand")
    if tenancy.topic_tenant is not None:  # only grand's dedicated topics are generated
        assert not dl.owned_by("acme")
    at = datetime(2025, 7, 1, tzinfo=UTC)
    for action in ("redrive", "discard", "release"):
        state = StateRecord.of(dl, action, actor="a", reason="r", audit_id="x", at=at)
        assert StateRecord.from_json(state.to_json()) == state
    audit = AuditRecord.new("discard", [dl], actor="a", reason="r", at=at)
    assert AuditRecord.from_json(audit.to_json()) == audit
    redriven_headers(dl, at, "grand")
    try:
        (move,) = plan_moves(
            [dl],
            to=None,
            existing_topics={
                "ns.pms.operational",
                "ns.tenant.grand.operational",
                "ns.tenant.grand.sync",
            },
            namespace="ns",
        )
        assert move.target == tenancy.topic.main  # type: ignore[union-attr]
    except DlqError:
        pass


@pytest.mark.fuzz
@SLOW
@given(
    msg=messages,
    namespace=st.sampled_from(["ns", None]),
    user=st.sampled_from([OPERATOR, TENANT]),
    handled=st.booleans(),
)
def test_any_dlq_record_renders_escaped(
    msg: Message, namespace: str | None, user: User, handled: bool
) -> None:
    dl = to_dead_letter(msg, namespace)
    at = datetime(2025, 7, 1, tzinfo=UTC)
    state = StateRecord.of(dl, "discard", actor=MARK, reason=MARK, audit_id="x", at=at)
    context = event_context(dl, state if handled else None, TOPOLOGY)
    page = TEMPLATES.get_template("event.html").render(user=user, csrf="token", **context)
    assert MARK not in page
    assert "<script" not in page
    assert str(dl.id) in page
    listing = TEMPLATES.get_template("dlq.html").render(
        user=user,
        csrf="token",
        form={"tenant": "", "since": "", "until": "", "handled": handled},
        error=None,
        dead_letters=[dl],
        state={dl.id: state} if handled else {},
        total=1,
        page=1,
        pages=1,
        queues=[],
        event_types=[],
        query_string="",
    )
    assert MARK not in listing
    assert str(dl.id) in listing
