"""What a task's template says about running it: retries, backoff and time limits."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from flyteidl2.core import tasks_pb2

from flyte.models import RetryStrategy, Timeout


@dataclass(frozen=True)
class AttemptPolicy:
    """Retry and timeout settings of one task.

    Attributes:
        retries: failed attempts that may be retried (``retries + 1`` attempts in all).
        backoff: the wait before retry ``n`` (1-based), in seconds.
        max_runtime: the longest one attempt may run, in seconds.
        deadline: the longest the action may take over all attempts, in seconds.
    """

    retries: int = 0
    retry_strategy: RetryStrategy | None = None
    max_runtime: float | None = None
    deadline: float | None = None

    def backoff(self, retry: int) -> float:
        if self.retry_strategy is None or self.retry_strategy.backoff is None:
            return 0.0
        return self.retry_strategy.backoff.delay(retry).total_seconds()

    @classmethod
    def from_template(cls, template: tasks_pb2.TaskTemplate) -> AttemptPolicy:
        md = template.metadata
        strategy = RetryStrategy.from_proto(md.retries) if md.HasField("retries") else RetryStrategy(0)
        timeout = Timeout.from_proto(
            md.timeout if md.HasField("timeout") else None, md.timeouts if md.HasField("timeouts") else None
        )
        return cls(
            retries=strategy.count,
            retry_strategy=strategy,
            max_runtime=_seconds(timeout.max_runtime) if timeout is not None else None,
            deadline=_seconds(timeout.deadline) if timeout is not None else None,
        )


def _seconds(value: timedelta | int | None) -> float | None:
    if value is None:
        return None
    return value.total_seconds() if isinstance(value, timedelta) else float(value)
