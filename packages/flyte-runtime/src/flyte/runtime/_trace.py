"""``@flyte.trace``: record each call of a helper inside a task, replay it when the task is retried.

A traced call's result is recorded under (action, function, n-th call in the attempt). When the
action runs again (a retry, or recovery after a crash), calls that already succeeded return their
recorded result instead of running again, so side effects such as paid API calls happen once.
Failed calls are not recorded: a retry runs them again.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from contextvars import ContextVar
from typing import Any, TypeVar, cast

from flyte.runtime._context import _CURRENT

F = TypeVar("F", bound=Callable[..., Any])

_IN_TRACE: ContextVar[bool] = ContextVar("flyte_in_trace", default=False)


def in_trace() -> bool:
    return _IN_TRACE.get()


class _Call:
    """One traced call: either replayed from the record, or run and then recorded."""

    def __init__(self, qualname: str):
        tctx = _CURRENT.get()
        self.recorder = tctx.controller.traces if tctx is not None and tctx.controller is not None else None
        self.key: Any = None
        self.replayed, self.value = False, None
        if self.recorder is not None and tctx is not None:
            self.key = self.recorder.next_key(tctx.action.name, qualname)
            self.replayed, self.value = self.recorder.lookup(self.key)

    def __enter__(self) -> _Call:
        self._token = _IN_TRACE.set(True)
        return self

    def __exit__(self, *_: object) -> None:
        _IN_TRACE.reset(self._token)

    def done(self, result: Any) -> Any:
        if self.recorder is not None:
            self.recorder.record(self.key, result)
        return result


def trace(func: F) -> F:
    """Record and replay calls of ``func`` (sync or async) inside a task.

    Outside a task the decorator does nothing. Traced functions must not call tasks.

    Example:
        >>> @trace  # doctest: +SKIP
        ... async def ask_llm(prompt: str) -> str: ...
    """
    qualname = f"{func.__module__}.{func.__qualname__}"
    if inspect.iscoroutinefunction(func):

        @functools.wraps(func)
        async def traced_async(*args: Any, **kwargs: Any) -> Any:
            call = _Call(qualname)
            if call.replayed:
                return call.value
            with call:
                return call.done(await func(*args, **kwargs))

        return cast(F, traced_async)

    @functools.wraps(func)
    def traced_sync(*args: Any, **kwargs: Any) -> Any:
        call = _Call(qualname)
        if call.replayed:
            return call.value
        with call:
            return call.done(func(*args, **kwargs))

    return cast(F, traced_sync)
