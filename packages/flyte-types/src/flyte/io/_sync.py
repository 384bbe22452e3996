"""The sync facade of `flyte.io`: run one of its coroutines from code that has no event loop."""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import Any, TypeVar

_T = TypeVar("_T")


def run_sync(coro: Coroutine[Any, Any, _T], what: str) -> _T:
    """Run ``coro`` to completion; refuse (instead of deadlocking) inside a running event loop.

    Raises:
        RuntimeError: called from a thread whose event loop is running; ``await`` the async form.
    """
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coro)
    coro.close()
    raise RuntimeError(f"{what}_sync() was called from a running event loop; use `await {what}()` there instead")
