"""Time limits: how long an attempt may run, wait in the queue, or take overall."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING

from flyte.models._durations import duration_from_proto, duration_to_proto, to_timedelta

if TYPE_CHECKING:
    from flyteidl2.core import literals_pb2
    from google.protobuf.duration_pb2 import Duration


@dataclass(frozen=True)
class Timeout:
    """Time limits of a task; ints are seconds.

    Args:
        max_runtime: the longest one attempt may run (``flyte.errors.MaxRuntimeExceededError``).
        max_queued_time: the longest the action may wait to start (``MaxQueuedTimeExceededError``).
        deadline: the longest the action may take overall, all attempts and waits included.

    A task's ``timeout=60`` or ``timeout=timedelta(minutes=1)`` is shorthand for
    ``Timeout(max_runtime=...)``.
    """

    max_runtime: timedelta | int | None = None
    max_queued_time: timedelta | int | None = None
    deadline: timedelta | int | None = None

    def __post_init__(self) -> None:
        for name in ("max_runtime", "max_queued_time", "deadline"):
            value = getattr(self, name)
            if value is not None:
                object.__setattr__(self, name, to_timedelta(value, f"Timeout.{name}", allow_zero=False))

    def runtime_proto(self) -> Duration | None:
        """``TaskMetadata.timeout``: the per-attempt limit."""
        return duration_to_proto(self.max_runtime) if isinstance(self.max_runtime, timedelta) else None

    def strategy_proto(self) -> literals_pb2.TimeoutStrategy | None:
        """``TaskMetadata.timeouts``: queue and overall limits; None when neither is set."""
        from flyteidl2.core import literals_pb2

        if self.max_queued_time is None and self.deadline is None:
            return None
        return literals_pb2.TimeoutStrategy(
            queued_timeout=duration_to_proto(self.max_queued_time)
            if isinstance(self.max_queued_time, timedelta)
            else None,
            deadline=duration_to_proto(self.deadline) if isinstance(self.deadline, timedelta) else None,
        )

    @classmethod
    def from_proto(cls, runtime: Duration | None, strategy: literals_pb2.TimeoutStrategy | None) -> Timeout | None:
        """Rebuild from ``TaskMetadata.timeout`` and ``.timeouts`` (pass None for an unset field)."""
        out = cls(
            max_runtime=duration_from_proto(runtime) if runtime is not None else None,
            max_queued_time=duration_from_proto(strategy.queued_timeout)
            if strategy is not None and strategy.HasField("queued_timeout")
            else None,
            deadline=duration_from_proto(strategy.deadline)
            if strategy is not None and strategy.HasField("deadline")
            else None,
        )
        return None if out == cls() else out


TimeoutType = Timeout | int | timedelta


def as_timeout(timeout: TimeoutType | None) -> Timeout | None:
    """``None`` -> no limits; an int (seconds) or timedelta -> ``Timeout(max_runtime=...)``."""
    if timeout is None or isinstance(timeout, Timeout):
        return timeout
    if isinstance(timeout, bool) or not isinstance(timeout, (int, timedelta)):
        raise TypeError(f"timeout must be seconds (int), a timedelta or a flyte.Timeout, got {timeout!r}")
    return Timeout(max_runtime=timeout)
