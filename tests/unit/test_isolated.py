"""`frontdesk.isolated`: a child that dies mid-call is reported, and the next call works."""

from __future__ import annotations

import os

import pytest

from frontdesk.isolated import Isolated, IsolatedProcessDied


def child_pid() -> int:
    return os.getpid()


def abort_like_librdkafka() -> None:
    os.abort()  # what a failed librdkafka assertion does to its process


def test_calls_run_in_one_child_process_of_their_own() -> None:
    isolated = Isolated()
    try:
        first = isolated.call(child_pid)
        assert first != os.getpid()
        assert isolated.call(child_pid) == first
    finally:
        isolated.close()


def test_a_child_that_aborts_is_reported_and_replaced() -> None:
    isolated = Isolated()
    try:
        before = isolated.call(child_pid)
        with pytest.raises(IsolatedProcessDied, match="abort_like_librdkafka"):
            isolated.call(abort_like_librdkafka)
        after = isolated.call(child_pid)
        assert after not in (before, os.getpid())
    finally:
        isolated.close()
