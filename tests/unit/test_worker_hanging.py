"""Telling hanging group offsets from a live transaction's (`frontdesk.worker.hanging`)."""

from __future__ import annotations

import pytest

from frontdesk.worker.config import WorkerConfig
from frontdesk.worker.errors import PolicyError
from frontdesk.worker.hanging import HangingWatch, operator_hint


def test_offsets_hang_once_pending_at_every_check_for_the_threshold() -> None:
    watch = HangingWatch(threshold=15.0)
    assert not watch.observe(True, now=100.0)
    assert not watch.observe(True, now=110.0)
    assert watch.observe(True, now=115.0)
    assert watch.observe(True, now=130.0)


def test_offsets_stable_at_one_check_start_over() -> None:
    watch = HangingWatch(threshold=15.0)
    watch.observe(True, now=100.0)
    assert not watch.observe(False, now=110.0)  # the transaction ended: it was a live one
    assert not watch.observe(True, now=120.0)
    assert not watch.observe(True, now=134.0)
    assert watch.observe(True, now=135.0)


def test_a_check_without_an_answer_changes_nothing() -> None:
    watch = HangingWatch(threshold=15.0)
    assert not watch.observe(None, now=100.0)
    watch.observe(True, now=110.0)
    assert not watch.observe(None, now=120.0)
    assert watch.observe(None, now=125.0)  # still pending since 110 as far as is known


def test_the_operator_hint_names_the_group_and_the_tool() -> None:
    hint = operator_hint("frontdesk.housekeeping")
    assert "frontdesk.housekeeping" in hint
    assert "kafka-transactions.sh" in hint
    assert "find-hanging" in hint


def test_the_check_can_be_turned_off_but_not_set_negative() -> None:
    assert WorkerConfig(hanging_check_interval=0).hanging_check_interval == 0
    with pytest.raises(PolicyError, match="hanging_check_interval"):
        WorkerConfig(hanging_check_interval=-1)
