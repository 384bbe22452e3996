"""Durations: the user's ``int`` seconds or ``timedelta``, and google.protobuf.Duration."""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from google.protobuf.duration_pb2 import Duration


def to_timedelta(value: timedelta | int, field: str, *, allow_zero: bool = True) -> timedelta:
    """Normalise ``value`` (whole seconds or a timedelta) for ``field``, refusing negatives and other types."""
    if isinstance(value, bool) or not isinstance(value, (int, timedelta)):
        raise TypeError(f"{field} must be a number of seconds (int) or a datetime.timedelta, got {value!r}")
    td = timedelta(seconds=value) if isinstance(value, int) else value
    if td < timedelta(0) or (not allow_zero and td == timedelta(0)):
        bound = "positive" if not allow_zero else "zero or positive"
        raise ValueError(f"{field} must be {bound}, got {value!r}")
    return td


def duration_to_proto(td: timedelta) -> Duration:
    from google.protobuf.duration_pb2 import Duration

    d = Duration()
    d.FromTimedelta(td)
    return d


def duration_from_proto(d: Duration) -> timedelta:
    return d.ToTimedelta()
