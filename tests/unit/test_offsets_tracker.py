"""The contiguous-offset tracker: commit only below the lowest unfinished record."""

from __future__ import annotations

import random

from hypothesis import given
from hypothesis import strategies as st

from frontdesk.worker.offsets import OffsetTracker


def test_nothing_to_commit_before_anything_is_received() -> None:
    assert OffsetTracker().committable() is None


def test_commit_point_waits_for_the_lowest_unfinished() -> None:
    t = OffsetTracker()
    for o in (10, 11, 12, 13):
        assert t.receive(o)
    assert t.committable() == 10
    t.finish(12)
    t.finish(11)
    assert t.committable() == 10
    t.finish(10)
    assert t.committable() == 13
    t.finish(13)
    assert t.committable() == 14
    assert t.outstanding == 0


def test_gaps_in_offsets_are_not_waited_for() -> None:
    # Transaction markers and compaction leave holes: 5 and 6 never arrive.
    t = OffsetTracker()
    for o in (3, 4, 7, 9):
        t.receive(o)
    for o in (3, 4):
        t.finish(o)
    assert t.committable() == 7
    t.finish(9)
    assert t.committable() == 7
    t.finish(7)
    assert t.committable() == 10


def test_repeats_and_late_finishes_are_ignored() -> None:
    t = OffsetTracker()
    assert t.receive(1)
    assert not t.receive(1)
    assert not t.receive(0)
    t.finish(1)
    t.finish(1)
    t.finish(0)
    assert t.committable() == 2


@given(st.lists(st.integers(min_value=1, max_value=3), min_size=1, max_size=60), st.randoms())
def test_never_commits_past_an_unfinished_record(steps: list[int], rng: random.Random) -> None:
    t = OffsetTracker()
    offsets: list[int] = []
    offset = 0
    for step in steps:
        offset += step
        t.receive(offset)
        offsets.append(offset)
    order = offsets[:]
    rng.shuffle(order)
    finished: set[int] = set()
    for o in order:
        t.finish(o)
        finished.add(o)
        point = t.committable()
        assert point is not None
        assert all(x in finished for x in offsets if x < point)
        unfinished = [x for x in offsets if x not in finished]
        assert point == (min(unfinished) if unfinished else offsets[-1] + 1)
