"""The cost of the worst record of each kind against a typical one, in the same run.

A record of up to 1 MB (Kafka's default maximum) is built for each way a body can be made
expensive: a huge decimal (quadratic in fastavro before the strict pass bounded it by the
declared precision), a huge string, a long varint
run, a record cut short; and the largest string the default limit admits, which is decoded.
(BookingCreated has no array or map: their item limits are covered by the unit tests.) Each
is decoded (and refused) repeatedly, and its time is reported as a ratio to the
decode time of a typical BookingCreated: the worst ratio is what one hostile record can
cost a worker compared with a normal one.
"""

from __future__ import annotations

import contextlib
import time
from dataclasses import asdict, dataclass, field
from typing import Any

from frontdesk.benchmarks.worker import sample_events
from frontdesk.codec import Codec, default_codec
from frontdesk.contracts.strict import DEFAULT_MAX_LENGTH
from frontdesk.contracts.writer import write_long
from frontdesk.errors import DecodeError
from frontdesk.events import Event

SIZE = 1_000_000


def _long(value: int) -> bytes:
    out = bytearray()
    write_long(out, value)
    return bytes(out)


def _typical() -> Event:
    return sample_events(1)[0]


def worst_records(codec: Codec) -> dict[str, bytes]:
    """One ~1 MB hostile record per kind, each a valid BookingCreated up to the bad field."""
    typical = codec.encode(_typical())
    # The message up to total_amount, whose encoding is the 4 bytes 06 00 a1 22 (412.50).
    amount = typical.index(bytes.fromhex("0600a122"))
    head, tail = typical[:amount], typical[amount + 4 :]
    name = typical.index(b"\x12Ana Silva")
    return {
        "decimal": head + _long(SIZE) + b"\x01" * SIZE + tail,
        "string": typical[:name] + _long(SIZE) + b"x" * SIZE + typical[name + 10 :],
        "string_at_limit": typical[:name]
        + _long(DEFAULT_MAX_LENGTH)
        + b"x" * DEFAULT_MAX_LENGTH
        + typical[name + 10 :],
        "varints": head + b"\x80" * SIZE,
        "truncated": typical[:name] + _long(SIZE * 10) + b"x" * SIZE,
    }


@dataclass
class DecodeBenchResult:
    typical_us: float
    worst_us: dict[str, float] = field(default_factory=dict)

    @property
    def ratios(self) -> dict[str, float]:
        return {k: v / self.typical_us for k, v in self.worst_us.items()}

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "ratios": self.ratios, "ratio": max(self.ratios.values())}


def _time(codec: Codec, data: bytes, rounds: int) -> float:
    best = float("inf")
    for _ in range(rounds):
        start = time.perf_counter()
        with contextlib.suppress(DecodeError):
            codec.decode(data)
        best = min(best, time.perf_counter() - start)
    return best * 1e6


def run_decode_bench(rounds: int = 200) -> DecodeBenchResult:
    codec = default_codec()
    typical = codec.encode(_typical())
    result = DecodeBenchResult(_time(codec, typical, rounds * 10))
    for kind, data in worst_records(codec).items():
        result.worst_us[kind] = _time(codec, data, rounds)
    return result
