"""The record path's decode/check/route decision over hostile bytes (`frontdesk.worker.intake`).

Whatever key, value and headers a record carries, on whatever topic it is read, `admit`
returns `Admitted` or `Rejected` with one of the documented reasons, and never raises; the
headers it believes can always be turned into the retry, DLQ, parked and diverted headers
the runtime writes next. This is the same function the runner calls for every record.
"""

from __future__ import annotations

import uuid

import pytest
from hypothesis import given
from hypothesis import strategies as st

from frontdesk import headers
from frontdesk.codec import default_codec
from frontdesk.events import BookingCreated
from frontdesk.naming import TopicName, parse_topic
from frontdesk.worker.handoff import (
    Source,
    diverted_headers,
    dlq_headers,
    parked_headers,
    retry_headers,
)
from frontdesk.worker.intake import REASONS, Admitted, Rejected, admit
from frontdesk.worker.tiers import due_at_ms
from tests.support.events import booking, envelope

pytestmark = pytest.mark.fuzz

CODEC = default_codec()
ROUTES = {BookingCreated}
TOPICS = [
    "ns.pms.operational",
    "ns.tenant.acme.operational",
    "ns.tenant.other.operational",
    "ns.pms.operational.retry.1s",
    "ns.tenant.acme.operational.retry.30s",
    "ns.pms.operational.parked",
    "ns.pms.fallback",
    "ns.tenant.acme.fallback",
    "ns.pms.operational.dlq",
    "not-ours",
]
FD_HEADERS = sorted(
    headers.RUNTIME
    | {headers.TENANT, headers.EVENT_TYPE, headers.EVENT_ID, headers.REDRIVEN_FROM}
    | {headers.SCHEMA_FINGERPRINT, headers.TRACEPARENT}
)

garbage = st.one_of(
    st.binary(max_size=40),
    st.text(max_size=20).map(str.encode),
    st.sampled_from(
        [b"abc", b"999", b"-1", b" 3", b"1_0", b"\xd9\xa1", b"", b"1e9", b"99999999999999999999"]
    ),
    st.integers(min_value=0, max_value=2**70).map(lambda n: str(n).encode()),
    st.just(uuid.uuid4().hex.encode()),
    st.sampled_from([b"ns.pms.operational", b"__consumer_offsets", b"ns.frontdesk.held"]),
)
header_lists = st.lists(
    st.tuples(st.one_of(st.sampled_from(FD_HEADERS), st.text(max_size=12)), garbage),
    max_size=12,
)


@st.composite
def values(draw: st.DrawFn) -> bytes:
    tenant = draw(st.sampled_from(["acme", "other"]))
    event = booking(tenant_id=tenant, property_id=draw(st.sampled_from(["p1", "p2"])))
    encoded = CODEC.encode(event)
    kind = draw(st.sampled_from(["valid", "cut", "flip", "random"]))
    if kind == "valid":
        return encoded
    if kind == "cut":
        return encoded[: draw(st.integers(0, len(encoded)))]
    if kind == "flip":
        at = draw(st.integers(0, len(encoded) - 1))
        return encoded[:at] + bytes([draw(st.integers(0, 255))]) + encoded[at + 1 :]
    return draw(st.binary(max_size=200))


keys = st.one_of(
    st.none(),
    st.sampled_from([b"acme/p1", b"acme/p2", b"other/p1", b"acme", b"/", b"acme/p1/x"]),
    st.binary(max_size=20),
)


@given(
    topic=st.sampled_from(TOPICS),
    key=keys,
    value=values(),
    raw=header_lists,
)
def test_admit_has_only_documented_outcomes(
    topic: str, key: bytes | None, value: bytes, raw: list[tuple[str, bytes]]
) -> None:
    info = parse_topic(topic, "ns")
    result = admit(info=info, key=key, value=value, raw_headers=raw, codec=CODEC, routes=ROUTES)
    assert isinstance(result, Admitted | Rejected)
    assert result.attempt >= 1
    source = Source(topic, 0, 7, None)
    for built in (
        retry_headers(
            result.headers, source=source, attempts=result.attempt, error=ValueError("x"),
            now_ms=1, due_ms=2,
        ),
        dlq_headers(
            result.headers, source=source, attempts=result.attempt, reason="x", error=None,
            now_ms=1, worker_id="w",
        ),
        parked_headers(result.headers, source=source, hold_id="h", group="g", now_ms=1),
        diverted_headers(
            result.headers, source=source, main="m", dependency="d", reason="r", now_ms=1
        ),
    ):  # fmt: skip
        assert all(isinstance(k, str) and isinstance(v, bytes) for k, v in built)
    due_at_ms(result.headers, 10)
    if isinstance(result, Rejected):
        assert result.reason in REASONS
        return
    event = result.event
    assert key == event.key.encode(), "an admitted record's key names its payload's tenant"
    if info is not None and info.tenant_id is not None:
        assert event.meta.tenant_id == info.tenant_id
    assert headers.get(result.headers, headers.TENANT) in (None, event.meta.tenant_id)
    if not _trusted(info, raw):
        assert result.attempt == 1, "runtime headers on a main topic are not believed"
        assert not {k for k, _ in result.headers} & headers.RUNTIME


def _trusted(info: TopicName | None, raw: list[tuple[str, bytes]]) -> bool:
    if info is None:
        return False
    if info.role in ("retry", "parked"):
        return True
    return info.queue.value == "fallback" and headers.get(raw, headers.DIVERTED_FROM) is not None


def _admit(topic: str, key: bytes | None, value: bytes, raw: list[tuple[str, bytes]]) -> object:
    return admit(
        info=parse_topic(topic, "ns"), key=key, value=value, raw_headers=raw, codec=CODEC,
        routes=ROUTES,
    )  # fmt: skip


def test_forged_attempt_on_a_main_topic_means_attempt_one() -> None:
    event = booking(tenant_id="acme", property_id="p1")
    for forged in (b"abc", b"999"):
        raw = [*envelope(event), (headers.ATTEMPT, forged), (headers.DUE_AT, b"zz")]
        result = _admit("ns.pms.operational", b"acme/p1", CODEC.encode(event), raw)
        assert isinstance(result, Admitted)
        assert result.attempt == 1
        assert headers.get(result.headers, headers.ATTEMPT) is None


def test_garbage_runtime_header_on_a_retry_topic_is_bad_header() -> None:
    event = booking(tenant_id="acme", property_id="p1")
    value = CODEC.encode(event)
    for name, forged in [
        (headers.ATTEMPT, b"abc"),
        (headers.ATTEMPT, b"999999"),
        (headers.DUE_AT, b"soon"),
        (headers.HOLDS, b"not-a-hold"),
        (headers.ORIGINAL_TOPIC, b"__consumer_offsets"),
        (headers.ORIGINAL_TOPIC, b"ns.tenant.acme.operational"),  # pooled tier, dedicated origin
    ]:
        raw = [*envelope(event), (name, forged)]
        result = _admit("ns.pms.operational.retry.1s", b"acme/p1", value, raw)
        assert isinstance(result, Rejected), name
        assert result.reason == "bad_header"
        assert name in str(result.error)


def test_a_due_time_later_than_the_tier_allows_is_bad_header() -> None:
    event = booking(tenant_id="acme", property_id="p1")
    raw = [*envelope(event), (headers.ATTEMPT, b"1"), (headers.DUE_AT, b"9" * 19)]
    result = admit(
        info=parse_topic("ns.pms.operational.retry.1s", "ns"), key=b"acme/p1",
        value=CODEC.encode(event), raw_headers=raw, codec=CODEC, routes=ROUTES,
        latest_due_ms=10_000,
    )  # fmt: skip
    assert isinstance(result, Rejected)
    assert result.reason == "bad_header"
    assert due_at_ms(raw, 10_000) is None, "the gate does not hold a forged due time"


@pytest.mark.parametrize(
    ("topic", "key", "header_tenant"),
    [
        ("ns.pms.operational", b"other/p1", "acme"),  # key names another tenant
        ("ns.pms.operational", b"acme/p2", "acme"),  # key names another property
        ("ns.pms.operational", None, "acme"),  # no key
        ("ns.pms.operational", b"\xff\xfe", "acme"),  # garbled key
        ("ns.pms.operational", b"acme/p1", "other"),  # header names another tenant
        ("ns.tenant.other.operational", b"acme/p1", "acme"),  # another tenant's topic
    ],
)
def test_disagreeing_tenant_is_tenant_mismatch(
    topic: str, key: bytes | None, header_tenant: str
) -> None:
    event = booking(tenant_id="acme", property_id="p1")
    raw = [(headers.TENANT, header_tenant.encode())]
    result = _admit(topic, key, CODEC.encode(event), raw)
    assert isinstance(result, Rejected)
    assert result.reason == "tenant_mismatch"
