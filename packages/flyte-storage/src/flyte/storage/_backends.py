"""Remote filesystems: the fsspec backend of each scheme, imported on first use, one instance
per (event loop, configuration).

fsspec's async filesystems hold an HTTP session bound to the loop that created them, so an
instance is reused only on its own loop; the sync facade's loop and each ``asyncio.run`` get
their own.
"""

from __future__ import annotations

import asyncio
import importlib
import weakref
from typing import Any

from flyte.storage._config import Storage, config_for
from flyte.storage._errors import StorageBackendMissingError
from flyte.storage._uri import Location

__all__ = ["close_filesystems", "filesystem", "filesystem_for_config"]

# protocol -> (module that must import, extra that installs it)
_BACKEND_MODULES: dict[str, tuple[str, str]] = {"s3": ("s3fs", "s3"), "gs": ("gcsfs", "gcs"), "abfs": ("adlfs", "abfs")}


class _LoopFilesystems:
    """The filesystems built on one event loop, and the lock that builds each only once."""

    def __init__(self) -> None:
        self.lock = asyncio.Lock()
        self.by_key: dict[tuple[str, Storage], Any] = {}


_instances: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _LoopFilesystems] = weakref.WeakKeyDictionary()


def _filesystem_class(location: Location) -> Any:
    module, extra = _BACKEND_MODULES[location.protocol]
    try:
        importlib.import_module(module)
    except ImportError:
        raise StorageBackendMissingError(location.uri, module, extra) from None
    import fsspec  # type: ignore[import-untyped]  # only once a remote URI is used: it is not cheap

    return fsspec.get_filesystem_class(location.protocol)


async def filesystem(location: Location) -> Any:
    """The async fsspec filesystem that serves a remote ``location`` on the running loop."""
    return await filesystem_for_config(location, config_for(location.protocol))


async def filesystem_for_config(location: Location, config: Storage) -> Any:
    loop = asyncio.get_running_loop()
    per_loop = _instances.get(loop)
    if per_loop is None:
        per_loop = _instances.setdefault(loop, _LoopFilesystems())
    key = (location.protocol, config)
    fs = per_loop.by_key.get(key)
    if fs is not None:
        return fs
    # The first files of a folder transfer all ask at once: build one filesystem (one HTTP
    # session, one connection pool) and let the others wait for it.
    async with per_loop.lock:
        fs = per_loop.by_key.get(key)
        if fs is None:
            cls = _filesystem_class(location)
            # skip_instance_cache: fsspec's own cache is keyed by thread, not by loop, and would
            # hand a filesystem bound to a closed loop to the next asyncio.run.
            fs = cls(asynchronous=True, loop=loop, skip_instance_cache=True, **config.fsspec_kwargs())
            await config.prepare_filesystem(fs)
            per_loop.by_key[key] = fs
    return fs


async def close_filesystems() -> None:
    """Close the HTTP sessions of the filesystems bound to the running loop.

    Call it before the loop ends (tests, short-lived scripts) to avoid "unclosed session"
    warnings; the next call on this loop builds fresh filesystems.
    """
    per_loop = _instances.pop(asyncio.get_running_loop(), None)
    for fs in per_loop.by_key.values() if per_loop is not None else ():
        await _close(fs)


async def _close(fs: Any) -> None:
    # The backends register weakref finalizers that would close these sessions again at exit,
    # through a loop that is gone by then (adlfs prints "Loop is not running"); we close them
    # here, so drop those finalizers.
    for finalizer in list(weakref.finalize._registry):  # type: ignore[attr-defined]
        peeked = finalizer.peek()
        if peeked is not None and peeked[0] is fs:
            finalizer.detach()
    # Each backend keeps its session under a different name; close what is there.
    s3 = getattr(fs, "_s3", None)
    if s3 is not None:
        await s3.__aexit__(None, None, None)
    session = getattr(fs, "_session", None)
    if session is not None and hasattr(session, "close"):
        await session.close()
    client = getattr(fs, "service_client", None)
    if client is not None and hasattr(client, "close"):
        await client.close()
