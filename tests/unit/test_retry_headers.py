"""Retry and DLQ headers: the history of an event's failures, replaced not appended."""

from __future__ import annotations

from frontdesk import headers
from frontdesk.worker.handoff import MAX_STACK_CHARS, Source, dlq_headers, retry_headers

PRODUCED = [
    (headers.TENANT, b"acme"),
    (headers.EVENT_TYPE, b"BookingCreated"),
    (headers.EVENT_ID, b"e-1"),
    (headers.TRACEPARENT, b"00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"),
]


def fail() -> Exception:
    try:
        raise ConnectionError("OTA said 503")
    except ConnectionError as exc:
        return exc


def as_dict(hs: list[tuple[str, bytes]]) -> dict[str, str]:
    assert len({k for k, _ in hs}) == len(hs), "each header once"
    return {k: v.decode() for k, v in hs}


def test_first_retry_records_the_origin() -> None:
    src = Source("pms.operational", 3, 41, 1_700_000_000_000)
    h = as_dict(
        retry_headers(
            PRODUCED,
            source=src,
            attempts=1,
            error=fail(),
            now_ms=2_000,
            due_ms=12_000,
            trace={headers.TRACEPARENT: "00-0af7651916cd43dd8448eb211c80319c-00f067aa0ba902b7-01"},
        )
    )
    assert h[headers.TENANT] == "acme"
    assert h[headers.ATTEMPT] == "1"
    assert h[headers.ORIGINAL_TOPIC] == "pms.operational"
    assert h[headers.ORIGINAL_PARTITION] == "3"
    assert h[headers.ORIGINAL_OFFSET] == "41"
    assert h[headers.ORIGINAL_TIMESTAMP] == "1700000000000"
    assert h[headers.FIRST_FAILURE_AT] == h[headers.LAST_FAILURE_AT] == "2000"
    assert h[headers.DUE_AT] == "12000"
    assert h[headers.ERROR_CLASS] == "builtins.ConnectionError"
    assert h[headers.ERROR_MESSAGE] == "OTA said 503"
    assert h[headers.TRACEPARENT].endswith("00f067aa0ba902b7-01"), "next attempt is a child"


def test_later_retries_keep_origin_and_first_failure() -> None:
    first = retry_headers(
        PRODUCED,
        source=Source("pms.operational", 3, 41, 5),
        attempts=1,
        error=fail(),
        now_ms=2_000,
        due_ms=12_000,
    )
    second = as_dict(
        retry_headers(
            first,
            source=Source("pms.operational.retry.10s", 0, 7, 2_001),
            attempts=2,
            error=TimeoutError("again"),
            now_ms=13_000,
            due_ms=73_000,
        )
    )
    assert second[headers.ORIGINAL_TOPIC] == "pms.operational"
    assert second[headers.ORIGINAL_OFFSET] == "41"
    assert second[headers.FIRST_FAILURE_AT] == "2000"
    assert second[headers.LAST_FAILURE_AT] == "13000"
    assert second[headers.ATTEMPT] == "2"
    assert second[headers.ERROR_CLASS] == "builtins.TimeoutError"


def test_dead_letter_headers() -> None:
    waiting = retry_headers(
        PRODUCED,
        source=Source("pms.operational", 0, 1, None),
        attempts=1,
        error=fail(),
        now_ms=1,
        due_ms=2,
    )
    big = ValueError("x" * 5000)
    h = as_dict(
        dlq_headers(
            waiting,
            source=Source("pms.operational.retry.1s", 0, 9, 3),
            attempts=2,
            reason="retries_exhausted",
            error=big,
            now_ms=99,
            worker_id="host-1-0",
            trace_id="0af7651916cd43dd8448eb211c80319c",
        )
    )
    assert h[headers.REASON] == "retries_exhausted"
    assert h[headers.ORIGINAL_OFFSET] == "1"
    assert h[headers.WORKER_ID] == "host-1-0"
    assert h[headers.DEAD_LETTERED_AT] == "99"
    assert h[headers.TRACE_ID] == "0af7651916cd43dd8448eb211c80319c"
    assert headers.DUE_AT not in h
    assert len(h[headers.ERROR_MESSAGE]) <= 1000
    assert len(h[headers.STACK_TRACE]) <= MAX_STACK_CHARS
    assert h[headers.ATTEMPT] == "2"
