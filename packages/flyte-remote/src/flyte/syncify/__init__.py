"""Sync-by-default wrappers over the SDK's async core, with an ``.aio`` form for async code.

Example:
    >>> from flyte.syncify import syncify
    >>> @syncify
    ... async def greet(name: str) -> str:
    ...     return f"hello {name}"
    >>> greet("world")
    'hello world'

In async code, ``await greet.aio("world")``. Async generators become sync iterators (and
``async for`` over ``.aio(...)``). All calls made through one :class:`Syncify` run on its single
background event loop, so clients created inside them stay bound to one loop. Calling the sync
form from code already running on that loop raises :class:`SyncCallFromLoopError` instead of
deadlocking.
"""

from flyte.syncify._api import SyncFunction, SyncGenFunction, Syncify
from flyte.syncify._loop import BackgroundLoop, SyncCallFromLoopError

syncify = Syncify()
"""The SDK's shared instance: every public sync call goes through its one background loop."""

__all__ = ["BackgroundLoop", "SyncCallFromLoopError", "SyncFunction", "SyncGenFunction", "Syncify", "syncify"]
