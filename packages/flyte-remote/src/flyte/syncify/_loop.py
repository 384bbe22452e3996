"""The one background event loop that every synchronous SDK call runs on."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator, Coroutine, Iterator
from concurrent.futures import Future
from typing import Any, TypeVar

T = TypeVar("T")


class SyncCallFromLoopError(RuntimeError):
    """A blocking call was made from the thread that would have to serve it.

    Blocking the background loop's own thread on work scheduled onto that loop can never finish.
    Async code must use the ``.aio`` form instead.
    """


class BackgroundLoop:
    """An asyncio loop on a daemon thread, started on first use.

    Async clients (grpc aio channels, aiohttp sessions) bind to the loop they were created on,
    so the SDK runs all of its async work on this single loop, whether the caller is sync code,
    a different event loop (a notebook, a user's ``asyncio.run``) or this loop itself.
    """

    def __init__(self, name: str):
        self.name = name
        self._lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None

    @property
    def loop(self) -> asyncio.AbstractEventLoop:
        if self._loop is None:
            with self._lock:
                if self._loop is None:
                    self._start()
        assert self._loop is not None
        return self._loop

    def _start(self) -> None:
        loop = asyncio.new_event_loop()
        ready = threading.Event()

        def serve() -> None:
            asyncio.set_event_loop(loop)
            loop.call_soon(ready.set)
            loop.run_forever()

        self._thread = threading.Thread(target=serve, name=self.name, daemon=True)
        self._thread.start()
        ready.wait()
        self._loop = loop

    def in_loop_thread(self) -> bool:
        return self._thread is not None and threading.current_thread() is self._thread

    def submit(self, coro: Coroutine[Any, Any, T]) -> Future[T]:
        return asyncio.run_coroutine_threadsafe(coro, self.loop)

    def run(self, coro: Coroutine[Any, Any, T], what: str) -> T:
        """Run ``coro`` on the loop and block the calling thread until it is done."""
        if self.in_loop_thread():
            coro.close()
            raise SyncCallFromLoopError(
                f"{what}() was called synchronously from async code running on the SDK's event loop; "
                f"use `await {what}.aio(...)` instead"
            )
        future = self.submit(coro)
        try:
            return future.result()
        except BaseException:
            # KeyboardInterrupt while waiting: do not leave the work running unobserved.
            future.cancel()
            raise

    async def run_async(self, coro: Coroutine[Any, Any, T]) -> T:
        """Await ``coro`` on the background loop from any event loop."""
        if self.in_loop_thread():
            return await coro
        return await asyncio.wrap_future(self.submit(coro))

    def iterate(self, agen: AsyncIterator[T], what: str) -> Iterator[T]:
        """Drive an async iterator on the loop, one item per blocking step."""
        if self.in_loop_thread():
            raise SyncCallFromLoopError(
                f"{what}() was iterated synchronously from async code running on the SDK's event loop; "
                f"use `async for ... in {what}.aio(...)` instead"
            )
        finished = False
        try:
            while True:
                try:
                    yield self.submit(_anext(agen)).result()
                except StopAsyncIteration:
                    finished = True
                    return
        finally:
            if not finished:
                # The caller stopped early (break, exception, garbage collection): let the async
                # generator run its cleanup on the loop it lives on.
                self.submit(_aclose(agen)).result()

    async def iterate_async(self, agen: AsyncIterator[T]) -> AsyncIterator[T]:
        """Proxy an async iterator that lives on the background loop into the caller's loop."""
        if self.in_loop_thread():
            async for item in agen:
                yield item
            return
        finished = False
        try:
            while True:
                try:
                    yield await asyncio.wrap_future(self.submit(_anext(agen)))
                except StopAsyncIteration:
                    finished = True
                    return
        finally:
            if not finished:
                await asyncio.wrap_future(self.submit(_aclose(agen)))


async def _anext(agen: AsyncIterator[T]) -> T:
    return await agen.__anext__()


async def _aclose(agen: AsyncIterator[Any]) -> None:
    aclose = getattr(agen, "aclose", None)
    if aclose is not None:
        await aclose()
