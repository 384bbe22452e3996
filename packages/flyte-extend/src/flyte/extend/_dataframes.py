"""Moving a dataset folder between an engine (Spark, Dask) and the store a DataFrame lives in.

Engines write and read datasets as folders of files on a filesystem they can reach. These two
helpers put such a folder where a ``flyte.io.DataFrame`` belongs (in place for a local path,
through a scratch folder and an upload for a remote store) and give an engine a local folder to
read, so a plugin's encoder and decoder never touch ``flyte.storage`` themselves.
"""

from __future__ import annotations

import asyncio
import atexit
import os
import shutil
import tempfile
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from flyte.io import DataFrame

_downloads_lock = threading.Lock()
_downloads: str | None = None


def _local(uri: str) -> str:
    return uri[len("file://") :] if uri.startswith("file://") else uri


async def write_dataset(dataframe: DataFrame, write: Callable[[str], None]) -> str:
    """Have ``write(folder)`` write a dataset folder, and put it at the DataFrame's uri; returns the uri.

    ``write`` runs in a worker thread and must create ``folder`` itself (Spark and Dask do). The
    uri is ``dataframe.uri``, or a new one under the raw data path. A local uri is written in
    place; a remote one is written to a scratch folder that is then uploaded and removed.

    Example:
        >>> uri = await write_dataset(fdf, lambda folder: spark_df.write.parquet(folder))  # doctest: +SKIP
    """
    import flyte.storage as storage
    from flyte.io import new_raw_data_uri

    uri = dataframe.uri or new_raw_data_uri()
    if not storage.is_remote(uri):
        folder = _local(uri)

        def write_in_place() -> None:
            os.makedirs(os.path.dirname(os.path.abspath(folder)), exist_ok=True)
            write(folder)

        await asyncio.to_thread(write_in_place)
        return uri
    scratch = tempfile.mkdtemp(prefix="flyte-dataset-")
    try:
        local = os.path.join(scratch, "data")
        await asyncio.to_thread(write, local)
        await storage.put(local, uri, recursive=True)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return uri


async def local_dataset(uri: str) -> str:
    """A local path holding the dataset at ``uri``: the path itself for a local uri, else a downloaded copy.

    Engines read lazily (a Spark or Dask DataFrame reads its files when computed, long after the
    decoder returned), so a downloaded copy stays until the process exits.
    """
    import flyte.storage as storage

    if not storage.is_remote(uri):
        return _local(uri)
    target = tempfile.mkdtemp(prefix="dataset-", dir=_downloads_folder())
    try:
        return await storage.get(uri, os.path.join(target, "data"), recursive=True)
    except storage.InvalidStoragePathError:  # a single object rather than a prefix
        return await storage.get(uri, os.path.join(target, "data.parquet"))


def _downloads_folder() -> str:
    global _downloads
    with _downloads_lock:
        if _downloads is None:
            _downloads = tempfile.mkdtemp(prefix="flyte-datasets-")
            atexit.register(shutil.rmtree, _downloads, ignore_errors=True)
        return _downloads
