"""Delivery handles settle from librdkafka's callback and surface failures once."""

from __future__ import annotations

from typing import Any

import pytest

from frontdesk.errors import DeliveryError
from frontdesk.producer import Delivery


class _Msg:
    def partition(self) -> int:
        return 3

    def offset(self) -> int:
        return 41


def test_success_reports_partition_and_offset() -> None:
    failed: list[Delivery] = []
    d = Delivery("e1", "t", None, lambda _t: None, failed.append)
    assert not d.done()
    d(None, _Msg())
    result = d.result(timeout=0)
    assert (result.event_id, result.topic, result.partition, result.offset) == ("e1", "t", 3, 41)
    assert failed == []


def test_failure_names_the_event_and_is_marked_collected() -> None:
    failed: list[Delivery] = []
    d = Delivery("e2", "topic-x", None, lambda _t: None, failed.append)
    d("MSG_TIMED_OUT", None)
    assert failed == [d]
    with pytest.raises(DeliveryError, match="e2") as info:
        d.result()
    assert info.value.event_id == "e2"
    assert info.value.topic == "topic-x"
    assert d.collected


def test_result_polls_until_settled_and_times_out_otherwise() -> None:
    polls: list[float] = []
    d: Delivery

    def poll(timeout: float) -> Any:
        polls.append(timeout)
        if len(polls) == 3:
            d(None, _Msg())

    d = Delivery("e3", "t", None, poll, lambda _d: None)
    assert d.result(timeout=5).offset == 41
    assert len(polls) == 3

    stuck = Delivery("e4", "t", None, lambda _t: None, lambda _d: None)
    with pytest.raises(TimeoutError, match="e4"):
        stuck.result(timeout=0.05)
