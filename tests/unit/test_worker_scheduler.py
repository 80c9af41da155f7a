"""The key scheduler: one record per key at a time, different keys concurrently."""

from __future__ import annotations

from frontdesk.worker.scheduler import KeyScheduler


def drain(s: KeyScheduler[str]) -> list[str]:
    out = []
    while (item := s.next_ready()) is not None:
        out.append(item)
    return out


def test_same_key_waits_different_keys_do_not() -> None:
    s: KeyScheduler[str] = KeyScheduler()
    s.submit(b"a", "a1")
    s.submit(b"a", "a2")
    s.submit(b"b", "b1")
    s.submit(b"a", "a3")
    assert drain(s) == ["a1", "b1"]
    assert s.waiting_count == 2
    s.done(b"b")
    assert drain(s) == []
    s.done(b"a")
    assert drain(s) == ["a2"]
    s.done(b"a")
    assert drain(s) == ["a3"]
    s.done(b"a")
    assert s.busy_keys == 0
    assert s.waiting_count == 0


def test_keyless_records_are_never_held() -> None:
    s: KeyScheduler[str] = KeyScheduler()
    s.submit(None, "x")
    s.submit(None, "y")
    assert drain(s) == ["x", "y"]
    s.done(None)
    assert s.busy_keys == 0


def test_a_released_key_can_start_again() -> None:
    s: KeyScheduler[str] = KeyScheduler()
    s.submit(b"k", "1")
    assert drain(s) == ["1"]
    s.done(b"k")
    s.submit(b"k", "2")
    assert drain(s) == ["2"]
