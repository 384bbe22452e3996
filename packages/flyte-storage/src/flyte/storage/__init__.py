"""One async interface over local disk and the S3, GCS and Azure blob stores.

Local paths (bare or ``file://``) are served directly; ``s3://``, ``gs://`` and
``abfs://``/``abfss://`` through fsspec backends that are optional extras
(``flyte-storage[s3]``, ``[gcs]``, ``[abfs]``), imported only when a URI of that scheme is
first used. Writes are atomic, transient failures are retried with backoff, and every error is
a `StorageError` that names the URI.

Example:
    >>> import asyncio, tempfile, os
    >>> import flyte.storage as storage
    >>> folder = tempfile.mkdtemp()
    >>> uri = asyncio.run(storage.put_stream(b"hello", to_path=os.path.join(folder, "a", "b.txt")))
    >>> asyncio.run(storage.exists(uri))
    True
"""

from flyte.storage._backends import close_filesystems
from flyte.storage._config import ABFS, GCS, S3, Storage, configure
from flyte.storage._errors import (
    InvalidStoragePathError,
    StorageAccessDeniedError,
    StorageBackendMissingError,
    StorageConfigError,
    StorageError,
    StorageNotFoundError,
    StorageOperationError,
    StorageUnavailableError,
)
from flyte.storage._local import random_local_directory as get_random_local_directory
from flyte.storage._local import random_local_path as get_random_local_path
from flyte.storage._streams import StorageReader, StorageWriter, get_stream, open, put_stream
from flyte.storage._sync import exists_sync, get_sync, put_sync
from flyte.storage._transfer import exists, get, list_files, put, remove, size
from flyte.storage._uri import is_remote, join, safe_join
from flyte.storage._version import __version__

__all__ = [
    "ABFS",
    "GCS",
    "S3",
    "InvalidStoragePathError",
    "Storage",
    "StorageAccessDeniedError",
    "StorageBackendMissingError",
    "StorageConfigError",
    "StorageError",
    "StorageNotFoundError",
    "StorageOperationError",
    "StorageReader",
    "StorageUnavailableError",
    "StorageWriter",
    "__version__",
    "close_filesystems",
    "configure",
    "exists",
    "exists_sync",
    "get",
    "get_random_local_directory",
    "get_random_local_path",
    "get_stream",
    "get_sync",
    "is_remote",
    "join",
    "list_files",
    "open",
    "put",
    "put_stream",
    "put_sync",
    "remove",
    "safe_join",
    "size",
]
