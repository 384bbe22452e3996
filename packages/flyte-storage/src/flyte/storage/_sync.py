"""The sync facade: blocking versions of the async API for code that has no event loop.

One background thread runs one event loop for every sync call of the process, so filesystems
and their connection pools are built once and reused (a fresh ``asyncio.run`` per call would
rebuild them every time).
"""

from __future__ import annotations

import asyncio
import os
import threading
from collections.abc import Coroutine
from typing import Any, TypeVar

from flyte.storage import _transfer
from flyte.storage._errors import StorageConfigError

__all__ = ["exists_sync", "get_sync", "put_sync", "run_sync"]

_T = TypeVar("_T")


class _LoopThread:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None

    def loop(self) -> asyncio.AbstractEventLoop:
        with self._lock:
            if self._loop is None or self._thread is None or not self._thread.is_alive():
                loop = asyncio.new_event_loop()
                thread = threading.Thread(target=loop.run_forever, name="flyte-storage-sync", daemon=True)
                thread.start()
                self._loop, self._thread = loop, thread
            return self._loop

    def is_current_thread(self) -> bool:
        return self._thread is not None and threading.current_thread() is self._thread


_runner = _LoopThread()


def run_sync(coro: Coroutine[Any, Any, _T]) -> _T:
    """Run ``coro`` on the facade's loop and wait for its result.

    Raises:
        StorageConfigError: called from the facade's own loop thread, where waiting would
            deadlock; ``await`` the async function there instead.
    """
    if _runner.is_current_thread():
        coro.close()
        raise StorageConfigError(
            "sync call", "a flyte.storage *_sync function was called from its own event loop; await the async form"
        )
    return asyncio.run_coroutine_threadsafe(coro, _runner.loop()).result()


def exists_sync(path: str | os.PathLike[str]) -> bool:
    """Blocking `flyte.storage.exists`."""
    return run_sync(_transfer.exists(path))


def get_sync(
    from_path: str | os.PathLike[str], to_path: str | os.PathLike[str] | None = None, recursive: bool = False
) -> str:
    """Blocking `flyte.storage.get`."""
    return run_sync(_transfer.get(from_path, to_path, recursive=recursive))


def put_sync(from_path: str | os.PathLike[str], to_path: str | None = None, recursive: bool = False) -> str:
    """Blocking `flyte.storage.put`."""
    return run_sync(_transfer.put(from_path, to_path, recursive=recursive))
