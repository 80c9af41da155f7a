"""What every reliability scenario asserts, computed from the journal and the plan.

* **Nothing lost**: every planned event that should succeed has at least one successful
  handling (``outcome = 'ok'``), and its side effect exists.
* **Per-key order** (ordered event types): take a key's successful handlings of its
  ordered events in journal order (the global commit order; a key's handlings in one
  process are sequential and committed before the next one starts). Each must be at most
  one past the highest position handled so far on that key: the stream may *rewind* (a
  redelivery after a crash repeats a tail it had already handled) but never *skip ahead*.
  That is exactly "the first handling of each event follows production order", and it is
  what at-least-once delivery with per-key order permits, no more.
* **Duplicates** (deliveries handled successfully more than once) are counted; each
  scenario says which ones at-least-once allows (e.g. only events whose earlier handling
  was by a process later SIGKILLed).
* **None after idempotency**: the side-effect table holds each event exactly once. How
  the redeliveries were caught is reported: by ``ctx.once`` (the marker was there,
  ``first`` was False) or by the marker written with the effect (``first`` was True but
  another delivery had just applied it).
"""

from __future__ import annotations

import itertools
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

from tests.reliability.harness import Scenario
from tests.reliability.stream import Planned


@dataclass
class Delivery:
    row: int
    event_id: str
    key: str
    seq: int
    ordered: bool
    attempt: int
    first: bool | None
    applied: bool | None
    pid: int
    topic: str
    partition: int
    at_ms: int


@dataclass
class Verdict:
    expected: int
    handled: int = 0
    missing: list[str] = field(default_factory=list)
    unexpected: list[str] = field(default_factory=list)
    deliveries: int = 0
    duplicates: int = 0
    """Successful handlings beyond the first, summed over events (before idempotency)."""
    duplicated: dict[str, list[Delivery]] = field(default_factory=dict)
    caught_by_once: int = 0
    caught_by_marker: int = 0
    effects: int = 0
    effect_duplicates: int = 0
    """Side effects beyond one per event: must be 0 (after idempotency)."""
    effects_missing: int = 0
    failed_attempts: Counter[str] = field(default_factory=Counter)
    keys_checked: int = 0
    order_violations: list[str] = field(default_factory=list)
    ok: list[Delivery] = field(default_factory=list)

    def figures(self) -> dict[str, object]:
        return {
            "events_expected": self.expected,
            "events_handled": self.handled,
            "lost": len(self.missing),
            "deliveries": self.deliveries,
            "duplicates_before_idempotency": self.duplicates,
            "events_delivered_twice_or_more": len(self.duplicated),
            "redeliveries_skipped_by_ctx_once": self.caught_by_once,
            "redeliveries_stopped_by_effect_marker": self.caught_by_marker,
            "duplicates_after_idempotency": self.effect_duplicates,
            "failed_attempts": dict(self.failed_attempts),
            "ordered_keys_checked": self.keys_checked,
            "order_violations": len(self.order_violations),
        }

    def assert_nothing_lost(self) -> None:
        assert not self.missing, f"{len(self.missing)} events lost, e.g. {self.missing[:5]}"
        assert not self.unexpected, f"events nobody produced: {self.unexpected[:5]}"
        assert self.effects_missing == 0, f"{self.effects_missing} side effects missing"

    def assert_no_duplicate_effects(self) -> None:
        assert self.effect_duplicates == 0, (
            f"{self.effect_duplicates} side effects applied twice despite the idempotency helper"
        )

    def assert_order(self) -> None:
        assert self.keys_checked > 0
        assert not self.order_violations, (
            f"{len(self.order_violations)} order violations: {self.order_violations[:5]}"
        )


def deliveries(scenario: Scenario, main_only: bool = False) -> list[Delivery]:
    """Successful handlings, in journal (commit) order."""
    rows = scenario.rows(
        "SELECT id, event_id, key, seq, ordered, attempt, first, applied, pid, topic,"
        " partition, at_ms FROM attempts WHERE outcome = 'ok' ORDER BY id"
    )
    out = [
        Delivery(
            int(str(r[0])),
            str(r[1]),
            str(r[2]),
            int(str(r[3])),
            bool(r[4]),
            int(str(r[5])),
            None if r[6] is None else bool(r[6]),
            None if r[7] is None else bool(r[7]),
            int(str(r[8])),
            str(r[9]),
            int(str(r[10])),
            int(str(r[11])),
        )
        for r in rows
    ]
    return [d for d in out if d.topic == scenario.main] if main_only else out


def order_violations(
    ok: Iterable[Delivery], planned: Iterable[Planned], keys: set[str] | None = None
) -> tuple[int, list[str]]:
    """(keys checked, violations): per key, ordered events never skip ahead (see above)."""
    positions: dict[str, dict[str, int]] = defaultdict(dict)
    for p in planned:
        if p.ordered and (keys is None or p.key in keys):
            positions[p.key][p.event_id] = p.seq
    highest: dict[str, int] = {}
    problems: list[str] = []
    for d in ok:
        pos = positions.get(d.key, {}).get(d.event_id)
        if pos is None:
            continue
        last = highest.get(d.key, -1)
        if pos > last + 1:
            problems.append(
                f"{d.key}: #{pos} handled (pid {d.pid}, row {d.row}) before #{last + 1}"
            )
        highest[d.key] = max(last, pos)
    return len(positions), problems


def verdict(
    scenario: Scenario,
    planned: list[Planned],
    *,
    order_keys: set[str] | None = None,
) -> Verdict:
    """Check the journal against the plan; ``order_keys`` limits the order check."""
    ok = deliveries(scenario)
    result = Verdict(expected=len(planned), ok=ok)
    wanted = {p.event_id for p in planned}
    by_event: dict[str, list[Delivery]] = defaultdict(list)
    for d in ok:
        by_event[d.event_id].append(d)
        if d.first is False:
            result.caught_by_once += 1
        elif d.first and not d.applied:
            result.caught_by_marker += 1
    result.deliveries = len(ok)
    result.handled = len(wanted & by_event.keys())
    result.missing = sorted(wanted - by_event.keys())
    result.unexpected = sorted(by_event.keys() - wanted)
    result.duplicated = {e: ds for e, ds in by_event.items() if len(ds) > 1}
    result.duplicates = sum(len(ds) - 1 for ds in result.duplicated.values())
    effects = Counter(str(r[0]) for r in scenario.rows("SELECT event_id FROM effects"))
    result.effects = sum(effects.values())
    result.effect_duplicates = sum(n - 1 for n in effects.values())
    result.effects_missing = len(wanted - effects.keys())
    result.failed_attempts = Counter(
        {
            str(r[0]): int(str(r[1]))
            for r in scenario.rows(
                "SELECT outcome, COUNT(*) FROM attempts WHERE outcome != 'ok' GROUP BY outcome"
            )
        }
    )
    result.keys_checked, result.order_violations = order_violations(ok, planned, order_keys)
    return result


def recovery_ms(ok: list[Delivery], fault_ms: int, main: str) -> int | None:
    """How long after ``fault_ms`` the slowest partition of ``main`` handled again.

    Every partition receives events throughout the run, so a partition that handles
    nothing for a while after the fault is one whose owner died or moved.
    """
    first_after: dict[int, int] = {}
    for d in ok:
        if d.topic == main and d.at_ms > fault_ms:
            first_after[d.partition] = min(d.at_ms, first_after.get(d.partition, d.at_ms))
    if not first_after:
        return None
    return max(first_after.values()) - fault_ms


def max_stall_ms(ok: list[Delivery], main: str, start_ms: int, end_ms: int) -> int:
    """The longest time any partition of ``main`` handled nothing within [start, end].

    Only meaningful while events keep arriving on every partition (the producer runs):
    then a gap is a partition waiting for a rebalance, a restart or a broker.
    """
    times: dict[int, list[int]] = defaultdict(list)
    for d in ok:
        if d.topic == main and start_ms <= d.at_ms <= end_ms:
            times[d.partition].append(d.at_ms)
    worst = 0
    for values in times.values():
        values.sort()
        worst = max([worst, *(b - a for a, b in itertools.pairwise(values))])
    return worst


__all__ = [
    "Delivery",
    "Verdict",
    "deliveries",
    "max_stall_ms",
    "order_violations",
    "recovery_ms",
    "verdict",
]
