"""``flyte.map``: run a task over iterables in parallel, results in input order."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterable, Iterator
from typing import Any

from flyte.errors import SyncTaskCallInAsyncContextError
from flyte.runtime._context import _CURRENT, TaskContext, group, use_context
from flyte.runtime._task import AsyncFunctionTaskTemplate


class _Mapper:
    """``flyte.map(task, *iterables, concurrency=0, return_exceptions=True, group_name=None)``.

    Each element (``zip`` of the iterables) becomes one child action; at most ``concurrency`` run
    at once (0: no limit). Results are yielded in input order; a failed element is yielded as its
    exception when ``return_exceptions`` is true, and raised otherwise. In async code use
    ``async for r in flyte.map.aio(...)``.
    """

    def __call__(
        self,
        func: AsyncFunctionTaskTemplate[Any, Any],
        *iterables: Iterable[Any],
        group_name: str | None = None,
        concurrency: int = 0,
        return_exceptions: bool = True,
    ) -> Iterator[Any]:
        tctx = _CURRENT.get()
        controller = tctx.controller if tctx is not None else None
        loop = getattr(controller, "loop", None)
        if loop is None:
            # Outside a run: a plain, sequential map over the function.
            for args in zip(*iterables, strict=False):
                try:
                    yield asyncio.run(func.func(*args)) if func.is_async else func.func(*args)
                except Exception as e:
                    if not return_exceptions:
                        raise
                    yield e
            return
        if _in_loop_thread(loop):
            raise SyncTaskCallInAsyncContextError(
                f"flyte.map({func.short_name}, ...) was iterated from async code; "
                "use `async for r in flyte.map.aio(...)`"
            )
        # A sync parent in a worker thread: drive the async form on the run's loop, in the
        # parent's context (the loop thread has none of its own).
        agen = self._results(tctx, func, iterables, group_name, concurrency, return_exceptions)
        while True:
            try:
                yield asyncio.run_coroutine_threadsafe(_anext(agen), loop).result()
            except StopAsyncIteration:
                return

    async def aio(
        self,
        func: AsyncFunctionTaskTemplate[Any, Any],
        *iterables: Iterable[Any],
        group_name: str | None = None,
        concurrency: int = 0,
        return_exceptions: bool = True,
    ) -> AsyncIterator[Any]:
        async for result in self._results(_CURRENT.get(), func, iterables, group_name, concurrency, return_exceptions):
            yield result

    async def _results(
        self,
        parent: TaskContext | None,
        func: AsyncFunctionTaskTemplate[Any, Any],
        iterables: tuple[Iterable[Any], ...],
        group_name: str | None,
        concurrency: int,
        return_exceptions: bool,
    ) -> AsyncIterator[Any]:
        if concurrency < 0:
            raise ValueError(f"flyte.map(concurrency={concurrency}): expected 0 (no limit) or a positive int")
        limit = asyncio.Semaphore(concurrency) if concurrency else None

        async def one(call: Any) -> Any:
            if limit is None:
                return await call
            async with limit:
                return await call

        with use_context(parent), group(group_name or f"map-{func.short_name}"):
            calls = [func.aio(*args) for args in zip(*iterables, strict=False)]
        pending = [asyncio.ensure_future(one(c)) for c in calls]
        try:
            for fut in pending:
                try:
                    yield await fut
                except Exception as e:
                    if not return_exceptions:
                        raise
                    yield e
        finally:
            for fut in pending:
                fut.cancel()


def _in_loop_thread(loop: asyncio.AbstractEventLoop) -> bool:
    try:
        return asyncio.get_running_loop() is loop
    except RuntimeError:
        return False


async def _anext(agen: AsyncIterator[Any]) -> Any:
    return await agen.__anext__()


map = _Mapper()  # the public name is flyte.map
