"""Retry policy: how many more attempts, and how long to wait between them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING

from flyte.models._durations import duration_from_proto, duration_to_proto, to_timedelta

if TYPE_CHECKING:
    from flyteidl2.core import literals_pb2


@dataclass(frozen=True)
class Backoff:
    """Exponential backoff between attempts: ``min(base * factor ** (attempt - 1), cap)``.

    Args:
        base: the wait before the first retry.
        factor: the growth per retry, >= 1.
        cap: the longest wait, if any.
    """

    base: timedelta
    factor: float = 1.0
    cap: timedelta | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "base", to_timedelta(self.base, "Backoff.base"))
        if isinstance(self.factor, bool) or not isinstance(self.factor, (int, float)) or self.factor < 1:
            raise ValueError(f"Backoff.factor must be a number >= 1.0, got {self.factor!r}")
        if self.cap is not None:
            cap = to_timedelta(self.cap, "Backoff.cap")
            if cap < self.base:
                raise ValueError(f"Backoff.cap ({cap}) must not be shorter than Backoff.base ({self.base})")
            object.__setattr__(self, "cap", cap)

    def delay(self, retry: int) -> timedelta:
        """The wait before retry number ``retry`` (1 for the first retry)."""
        wait = self.base * (self.factor ** max(retry - 1, 0))
        return min(wait, self.cap) if self.cap is not None else wait

    def to_proto(self) -> literals_pb2.Backoff:
        from flyteidl2.core import literals_pb2

        return literals_pb2.Backoff(
            base=duration_to_proto(self.base),
            factor=float(self.factor),
            cap=duration_to_proto(self.cap) if self.cap is not None else None,
        )

    @classmethod
    def from_proto(cls, pb: literals_pb2.Backoff) -> Backoff:
        return cls(
            base=duration_from_proto(pb.base),
            factor=pb.factor or 1.0,
            cap=duration_from_proto(pb.cap) if pb.HasField("cap") else None,
        )


@dataclass(frozen=True)
class RetryStrategy:
    """How many times to retry a failed attempt (``count`` retries = ``count + 1`` attempts).

    A task's ``retries=3`` is shorthand for ``RetryStrategy(3)``. Errors that are
    :class:`flyte.errors.NonRecoverableError` are never retried.
    """

    count: int
    backoff: Backoff | None = None

    def __post_init__(self) -> None:
        if isinstance(self.count, bool) or not isinstance(self.count, int):
            raise TypeError(f"RetryStrategy.count must be an int >= 0, got {self.count!r}")
        if self.count < 0:
            raise ValueError(f"RetryStrategy.count must be >= 0, got {self.count}")
        if self.backoff is not None and not isinstance(self.backoff, Backoff):
            raise TypeError(f"RetryStrategy.backoff must be a flyte.Backoff, got {self.backoff!r}")

    def to_proto(self) -> literals_pb2.RetryStrategy:
        from flyteidl2.core import literals_pb2

        return literals_pb2.RetryStrategy(
            retries=self.count, backoff=self.backoff.to_proto() if self.backoff is not None else None
        )

    @classmethod
    def from_proto(cls, pb: literals_pb2.RetryStrategy) -> RetryStrategy:
        return cls(count=pb.retries, backoff=Backoff.from_proto(pb.backoff) if pb.HasField("backoff") else None)


RetriesType = int | RetryStrategy


def as_retry_strategy(retries: RetriesType | None) -> RetryStrategy:
    """``None`` -> no retries; an int -> that many retries; a RetryStrategy as is."""
    if retries is None:
        return RetryStrategy(0)
    if isinstance(retries, RetryStrategy):
        return retries
    if isinstance(retries, bool) or not isinstance(retries, int):
        raise TypeError(f"retries must be an int >= 0 or a flyte.RetryStrategy, got {retries!r}")
    return RetryStrategy(retries)
