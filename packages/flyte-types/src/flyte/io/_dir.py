"""`Dir`: a folder, on local disk or under a blob-store prefix, passed as a multipart blob."""

from __future__ import annotations

import dataclasses
import os
from collections.abc import AsyncIterator, Iterator
from typing import TypeVar

from flyte.io._file import File, StoredData, _is_remote, _local_path, resolve_local
from flyte.io._raw_data import new_raw_data_uri, raw_data_path
from flyte.io._sync import run_sync

T = TypeVar("T")


def _depth(relative: str) -> int:
    return relative.count("/") + 1


def _local_relatives(root: str, recursive: bool, max_depth: int | None) -> list[str]:
    found = []
    for folder, dirs, files in os.walk(root):
        rel_folder = os.path.relpath(folder, root)
        level = 0 if rel_folder == "." else rel_folder.count(os.sep) + 1
        if not recursive or (max_depth is not None and level + 1 >= max_depth):
            dirs.clear()
        dirs.sort()
        for name in sorted(files):
            rel = name if rel_folder == "." else os.path.join(rel_folder, name)
            found.append(rel.replace(os.sep, "/"))
    return found


@dataclasses.dataclass
class Dir(StoredData[T]):
    """A folder on local disk or a prefix in a blob store; ``T`` names its files' format.

    Example:
        >>> async def total_size(d: Dir) -> int:  # doctest: +SKIP
        ...     n = 0
        ...     async for f in d.walk():
        ...         async with f.open() as fh:
        ...             n += len(await fh.read())
        ...     return n

    Attributes:
        path: local folder or URI prefix.
        name: folder name (default: the last segment of ``path``).
        format: free-form format label of the files, written into the literal's blob type.
        hash: a cache key for the content, when known.
    """

    # --- constructors ------------------------------------------------------------------------

    @classmethod
    def new_remote(cls, dir_name: str | None = None) -> Dir[T]:
        """A folder to be filled, at a fresh location under the raw data path."""
        return cls(path=new_raw_data_uri(dir_name) if dir_name else new_raw_data_uri())

    @classmethod
    def from_existing_remote(cls, remote_path: str, dir_cache_key: str | None = None) -> Dir[T]:
        """A reference to a folder or prefix that already exists (nothing is copied)."""
        return cls(path=remote_path, hash=dir_cache_key)

    @classmethod
    async def from_local(cls, local_path: str | os.PathLike[str], remote_destination: str | None = None) -> Dir[T]:
        """Upload a local folder under the raw data path (or to ``remote_destination``).

        When the raw data path is local and no destination is given, nothing is copied.

        Raises:
            ValueError: ``local_path`` is not an existing folder.
        """
        import flyte.storage as storage

        src, name = resolve_local(local_path, folder=True, caller="Dir.from_local")
        if remote_destination is None and not _is_remote(raw_data_path()):
            return cls(path=src, name=name)
        uri = await storage.put(src, remote_destination or new_raw_data_uri(name), recursive=True)
        return cls(path=uri, name=name)

    @classmethod
    def from_local_sync(cls, local_path: str | os.PathLike[str], remote_destination: str | None = None) -> Dir[T]:
        """Blocking :meth:`from_local`."""
        return run_sync(cls.from_local(local_path, remote_destination), "Dir.from_local")

    # --- reading ------------------------------------------------------------------------------

    @property
    def is_remote(self) -> bool:
        return _is_remote(self.path)

    async def _relatives(self, recursive: bool, max_depth: int | None) -> list[str]:
        import asyncio

        import flyte.storage as storage

        if not self.is_remote:
            return await asyncio.to_thread(_local_relatives, _local_path(self.path), recursive, max_depth)
        prefix = self.path.rstrip("/") + "/"
        found = [uri[len(prefix) :] for uri in await storage.list_files(self.path) if uri.startswith(prefix)]
        limit = 1 if not recursive else max_depth
        return [rel for rel in found if limit is None or _depth(rel) <= limit]

    def _file(self, relative: str) -> File[T]:
        import flyte.storage as storage

        return File(path=storage.join(self.path, relative), format=self.format)

    async def walk(self, recursive: bool = True, max_depth: int | None = None) -> AsyncIterator[File[T]]:
        """Yield every file below the folder (sorted), as :class:`File` references.

        Args:
            recursive: descend into sub-folders.
            max_depth: with ``recursive``, how many levels to descend (1: top level only).
        """
        for rel in await self._relatives(recursive, max_depth):
            yield self._file(rel)

    def walk_sync(self, recursive: bool = True, max_depth: int | None = None) -> Iterator[File[T]]:
        """Blocking :meth:`walk`."""
        if self.is_remote:
            relatives = run_sync(self._relatives(recursive, max_depth), "Dir.walk")
        else:
            relatives = _local_relatives(_local_path(self.path), recursive, max_depth)
        for rel in relatives:
            yield self._file(rel)

    async def list_files(self) -> list[File[T]]:
        """The files directly in the folder (not in sub-folders)."""
        return [f async for f in self.walk(recursive=False)]

    def list_files_sync(self) -> list[File[T]]:
        return list(self.walk_sync(recursive=False))

    async def get_file(self, file_name: str) -> File[T] | None:
        """The file ``file_name`` inside the folder, or None if there is none."""
        f = self._file(file_name)
        return f if await f.exists() else None

    async def download(self, local_path: str | os.PathLike[str] | None = None) -> str:
        """Copy the whole folder to local disk and return the local folder.

        A local folder with no ``local_path`` given is already there: its path is returned.
        """
        import flyte.storage as storage

        if local_path is None and not self.is_remote:
            return _local_path(self.path)
        target = str(local_path) if local_path is not None else None
        return await storage.get(self.path, target, recursive=True)

    def download_sync(self, local_path: str | os.PathLike[str] | None = None) -> str:
        """Blocking :meth:`download`."""
        return run_sync(self.download(local_path), "Dir.download")

    async def exists(self) -> bool:
        import flyte.storage as storage

        return await storage.exists(self.path)

    def exists_sync(self) -> bool:
        if not self.is_remote:
            return os.path.isdir(_local_path(self.path))
        import flyte.storage as storage

        return storage.exists_sync(self.path)
