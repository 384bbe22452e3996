"""Task templates whose body runs with a :class:`~flyte.extend.LocalEngine` around it."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any, ClassVar, ParamSpec, TypeVar

from flyte.extend._engine import LocalEngine
from flyte.runtime import AsyncFunctionTaskTemplate

P = ParamSpec("P")
R = TypeVar("R")


@dataclass(kw_only=True)
class EngineTaskTemplate(AsyncFunctionTaskTemplate[P, R]):
    """A function task that needs its engine running: acquired before the body, released after.

    Each attempt acquires the engine in :meth:`pre` (whose dict lands in ``flyte.ctx().data``)
    and releases it when the body ends, whether it returned, raised or was cancelled by a
    timeout, so retries and failures never leak a running engine. Starting and stopping happen
    in a worker thread: the event loop keeps running the other actions meanwhile.

    Subclasses set :attr:`engine` and, like any plugin task, ``task_type`` and ``custom_config``.
    """

    engine: ClassVar[LocalEngine[Any, Any]]

    async def pre(self, *args: Any, **kwargs: Any) -> dict[str, Any]:
        handle = await asyncio.to_thread(self.engine.acquire, self.plugin_config)
        try:
            return self.engine.context_data(handle)
        except BaseException:
            await asyncio.to_thread(self.engine.release)
            raise

    async def execute(self, *args: Any, **kwargs: Any) -> Any:
        # The release lives here, not in post(): post() runs only after a body that returned.
        try:
            return await super().execute(*args, **kwargs)
        finally:
            await asyncio.to_thread(self.engine.release)
