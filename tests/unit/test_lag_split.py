"""Sharing a pooled partition's lag among tenants from a sample of its waiting records."""

from __future__ import annotations

from collections import Counter

from hypothesis import given
from hypothesis import strategies as st

from frontdesk.cli.lag import _age
from frontdesk.lag import _split


def test_complete_sample_gives_exact_counts() -> None:
    assert _split(5, Counter({"a": 3, "b": 2}), complete=True) == {"a": 3, "b": 2}


def test_partial_sample_scales_to_the_lag() -> None:
    assert _split(100, Counter({"a": 1, "b": 3}), complete=False) == {"a": 25, "b": 75}


@given(
    lag=st.integers(min_value=1, max_value=10**9),
    counts=st.dictionaries(st.sampled_from("abcdefg"), st.integers(1, 100), min_size=1),
)
def test_partial_shares_always_sum_to_the_lag(lag: int, counts: dict[str, int]) -> None:
    shares = _split(lag, Counter(counts), complete=False)
    assert sum(shares.values()) == lag
    assert set(shares) == set(counts)


def test_age_format() -> None:
    assert _age(None) == "-"
    assert _age(2.5) == "2.5s"
    assert _age(192) == "3m12s"
    assert _age(7300) == "2h01m"
    assert _age(90000) == "1d01h"
