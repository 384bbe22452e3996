"""Run many transfers with a bound on how many are in flight."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from typing import TypeVar

__all__ = ["run_bounded"]

_T = TypeVar("_T")


async def run_bounded(items: Sequence[_T], action: Callable[[_T], Awaitable[None]], limit: int) -> None:
    """Apply ``action`` to every item, at most ``limit`` at once.

    A fixed pool of workers pulls from one iterator (rather than one task per item), so ten
    thousand files cost ``limit`` tasks. The first failure cancels the others and is raised.
    """
    pending = iter(items)

    async def worker() -> None:
        for item in pending:  # one shared iterator: each item goes to exactly one worker
            await action(item)

    workers = [asyncio.ensure_future(worker()) for _ in range(min(limit, len(items)))]
    try:
        await asyncio.gather(*workers)
    except BaseException:
        for w in workers:
            w.cancel()
        await asyncio.gather(*workers, return_exceptions=True)
        raise
