"""Times on the command line: ISO-8601 instants or "that long ago".

Analysts think in wall-clock times ("yesterday from 14:00"), Kafka in milliseconds since the
epoch; this is the one place that converts. A time without a zone is read as UTC, never as
the machine's local zone, so the same command gives the same rows on every laptop and server.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from frontdesk.naming import parse_duration_ms

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
"""Kafka timestamps count milliseconds from here; negative ones mean "latest"/"earliest"
to the broker's offset lookup, so an earlier time would silently ask something else."""


def parse_time(text: str, *, now: datetime | None = None) -> datetime:
    """``2025-07-01``, ``2025-07-01T14:00``, ``2025-07-01T14:00:00+02:00``, ``...Z``, or a
    duration such as ``2h`` / ``7d`` meaning that long before ``now``. Returns aware UTC,
    never before 1970-01-01 (ValueError, naming the text, for that and for overflows)."""
    text = text.strip()
    try:
        ago = parse_duration_ms(text)
    except ValueError:
        pass
    else:
        try:
            value = (now or datetime.now(UTC)) - timedelta(milliseconds=ago)
        except OverflowError:
            value = datetime.min.replace(tzinfo=UTC)
        return _in_range(value, text)
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        raise ValueError(
            f"invalid time {text!r}: use ISO-8601 (2025-07-01T14:00:00Z) or a duration "
            "ago (30m, 2h, 7d)"
        ) from None
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    try:
        return _in_range(value.astimezone(UTC), text)
    except OverflowError:  # a zone offset that pushes year 1 or 9999 out of range
        raise ValueError(f"invalid time {text!r}: out of range") from None


def _in_range(value: datetime, text: str) -> datetime:
    if value < EPOCH:
        raise ValueError(
            f"invalid time {text!r}: before 1970-01-01T00:00:00Z, the earliest time a Kafka "
            "record can carry"
        )
    return value


def to_millis(value: datetime) -> int:
    """Kafka's timestamp unit. Naive datetimes are taken as UTC (see the module docstring)."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return int(value.timestamp() * 1000)


def from_millis(ms: int) -> datetime:
    """A Kafka timestamp as aware UTC. A producer may set any 64-bit CreateTime: one
    outside what a datetime holds is clamped to its first or last instant, not an error
    that would stop a whole listing at one record."""
    try:
        return datetime.fromtimestamp(ms / 1000, UTC)
    except (ValueError, OverflowError, OSError):
        return (datetime.max if ms > 0 else datetime.min).replace(tzinfo=UTC)
