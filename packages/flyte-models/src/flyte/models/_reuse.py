"""Reusable containers: keep a task's containers warm and send it many actions."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING, Literal

from flyte.models._durations import duration_from_proto, duration_to_proto, to_timedelta

if TYPE_CHECKING:
    from flyteidl2.core import tasks_pb2

# The backend reaps idle replicas on a 30 s cycle; a shorter idle TTL cannot be honoured.
_MIN_IDLE_TTL = timedelta(seconds=30)


@dataclass(frozen=True)
class ReusePolicy:
    """Keep ``replicas`` containers alive and run up to ``concurrency`` actions in each.

    Args:
        replicas: a fixed count, or ``(min, max)`` for autoscaling.
        idle_ttl: how long the environment lives with no work (>= 30 s).
        concurrency: actions one replica runs at once.
        scaledown_ttl: how long one replica may sit idle before it is removed.
        scope: ``"global"`` (shared by every run) or ``"run"`` (one set per run).
    """

    replicas: int | tuple[int, int] = 2
    idle_ttl: int | timedelta = 30
    concurrency: int = 1
    scaledown_ttl: int | timedelta = 30
    scope: Literal["global", "run"] = "global"

    def __post_init__(self) -> None:
        replicas = self.replicas
        if isinstance(replicas, int) and not isinstance(replicas, bool):
            replicas = (replicas, replicas)
        if (
            not isinstance(replicas, (tuple, list))
            or len(replicas) != 2
            or not all(isinstance(r, int) and not isinstance(r, bool) for r in replicas)
        ):
            raise TypeError(f"ReusePolicy.replicas must be an int or a (min, max) tuple of ints, got {self.replicas!r}")
        low, high = replicas
        if low < 0 or high < 1 or low > high:
            raise ValueError(f"ReusePolicy.replicas must satisfy 0 <= min <= max and max >= 1, got {self.replicas!r}")
        object.__setattr__(self, "replicas", (low, high))
        idle = to_timedelta(self.idle_ttl, "ReusePolicy.idle_ttl")
        if idle < _MIN_IDLE_TTL:
            raise ValueError(f"ReusePolicy.idle_ttl must be at least 30 seconds, got {idle}")
        object.__setattr__(self, "idle_ttl", idle)
        object.__setattr__(self, "scaledown_ttl", to_timedelta(self.scaledown_ttl, "ReusePolicy.scaledown_ttl"))
        if isinstance(self.concurrency, bool) or not isinstance(self.concurrency, int) or self.concurrency < 1:
            raise ValueError(f"ReusePolicy.concurrency must be an int >= 1, got {self.concurrency!r}")
        if self.scope not in ("global", "run"):
            raise ValueError(f"ReusePolicy.scope must be 'global' or 'run', got {self.scope!r}")

    @property
    def min_replicas(self) -> int:
        return self.replicas[0] if isinstance(self.replicas, tuple) else self.replicas

    @property
    def max_replicas(self) -> int:
        return self.replicas[1] if isinstance(self.replicas, tuple) else self.replicas

    def get_scaledown_ttl(self) -> timedelta:
        return to_timedelta(self.scaledown_ttl, "ReusePolicy.scaledown_ttl")

    def to_proto(self) -> tasks_pb2.ReusePolicy:
        from flyteidl2.core import tasks_pb2

        return tasks_pb2.ReusePolicy(
            min_replicas=self.min_replicas,
            max_replicas=self.max_replicas,
            concurrency=self.concurrency,
            idle_ttl=duration_to_proto(to_timedelta(self.idle_ttl, "ReusePolicy.idle_ttl")),
            scaledown_ttl=duration_to_proto(self.get_scaledown_ttl()),
            scope=tasks_pb2.ReusePolicy.RUN if self.scope == "run" else tasks_pb2.ReusePolicy.GLOBAL,
        )

    @classmethod
    def from_proto(cls, pb: tasks_pb2.ReusePolicy) -> ReusePolicy:
        from flyteidl2.core import tasks_pb2

        return cls(
            replicas=(pb.min_replicas, pb.max_replicas),
            idle_ttl=duration_from_proto(pb.idle_ttl),
            concurrency=pb.concurrency,
            scaledown_ttl=duration_from_proto(pb.scaledown_ttl),
            scope="run" if pb.scope == tasks_pb2.ReusePolicy.RUN else "global",
        )
