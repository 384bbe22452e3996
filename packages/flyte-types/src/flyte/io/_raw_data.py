"""Where offloaded data (files, folders, frames, large pickles) is written: the raw data path.

The runtime knows it per action (``TaskContext.raw_data_path``) but flyte-types sits below the
runtime and cannot ask it; so the runtime *tells* us, through a context variable that follows
the action into its coroutines and worker threads::

    with flyte.io.use_raw_data_path(tctx.raw_data_path):
        ...  # run the task; File.new_remote(), DataFrame encoders, large pickles write here

Outside any such block (a script, a test, a notebook) data goes to a local folder under the
system's temporary directory, so nothing fails for want of a backend.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from contextvars import ContextVar

__all__ = ["new_raw_data_uri", "raw_data_path", "use_raw_data_path"]

_RAW_DATA_PATH: ContextVar[str | None] = ContextVar("flyte_io_raw_data_path", default=None)


def _default_path() -> str:
    import tempfile  # imports shutil, bz2, lzma, random: only when a default is needed

    return os.path.join(tempfile.gettempdir(), "flyte", "raw_data")


def raw_data_path() -> str:
    """The prefix (a local folder or a ``s3://``-style URI) that new data is written under."""
    return _RAW_DATA_PATH.get() or _default_path()


@contextlib.contextmanager
def use_raw_data_path(path: str | None) -> Iterator[None]:
    """Write offloaded data under ``path`` inside the block (``None``: the local default).

    Example:
        >>> with use_raw_data_path("s3://bucket/raw/run-1"):  # doctest: +SKIP
        ...     lit = await TypeEngine.to_literal(df, pd.DataFrame)
    """
    token = _RAW_DATA_PATH.set(path or None)
    try:
        yield
    finally:
        _RAW_DATA_PATH.reset(token)


def new_raw_data_uri(name: str | None = None) -> str:
    """A fresh location under the raw data path: ``<raw>/<random>/<name>`` (or ``<raw>/<random>``)."""
    from flyte.storage import join

    parts = [raw_data_path(), os.urandom(16).hex()]
    if name:
        parts.append(name)
    return join(*parts)
