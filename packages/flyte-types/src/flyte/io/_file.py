"""`File`: one file, on local disk or in a blob store, passed between tasks as a single blob."""

from __future__ import annotations

import builtins
import codecs
import contextlib
import dataclasses
import os
import shutil
import tempfile
from collections.abc import AsyncIterator, Iterator
from types import TracebackType
from typing import IO, TYPE_CHECKING, Any, Generic, Literal, TypeVar, overload

from flyte.io._raw_data import new_raw_data_uri, raw_data_path
from flyte.io._sync import run_sync

if TYPE_CHECKING:
    from flyte.storage import StorageReader, StorageWriter

T = TypeVar("T")

ReadMode = Literal["rb", "r"]
WriteMode = Literal["wb", "w"]


def _is_remote(path: str) -> bool:
    from flyte.storage import is_remote

    return is_remote(path)


def _local_path(path: str) -> str:
    return path[len("file://") :] if path.startswith("file://") else path


def base_name(path: str) -> str:
    """The last segment of a local path or URI (``s3://b/x/y.csv`` -> ``y.csv``)."""
    return os.path.basename(path.rstrip("/")) if "://" not in path else path.rstrip("/").rsplit("/", 1)[-1]


def resolve_local(local_path: str | os.PathLike[str], folder: bool, caller: str) -> tuple[str, str]:
    """``(absolute path, name)`` of an existing local file (or folder); ValueError otherwise."""
    src = os.path.abspath(os.fspath(local_path))
    if not (os.path.isdir(src) if folder else os.path.isfile(src)):
        raise ValueError(f"{caller}: {os.fspath(local_path)!r} is not an existing {'folder' if folder else 'file'}")
    return src, os.path.basename(src)


async def upload_if_local(path: str, recursive: bool) -> str:
    """``path`` itself, unless it is local while the raw data path is remote: then upload it there.

    A task running against a blob store that returns ``File(path="/tmp/out.csv")`` means the
    file, not a path inside its container; uploading keeps the value readable downstream.
    """
    raw = raw_data_path()
    if _is_remote(path) or not _is_remote(raw):
        return path
    import flyte.storage as storage

    return await storage.put(_local_path(path), new_raw_data_uri(base_name(path)), recursive=recursive)


class TextReader:
    """A file opened with ``mode="r"``: ``await read()`` returns ``str`` (UTF-8), streaming blocks."""

    def __init__(self, raw: StorageReader, encoding: str = "utf-8"):
        self._raw = raw
        self._decoder = codecs.getincrementaldecoder(encoding)()

    async def read(self, n: int = -1) -> str:
        data = await self._raw.read(n)
        return self._decoder.decode(data, final=not data or n < 0)

    def __aiter__(self) -> AsyncIterator[str]:
        return self._chunks()

    async def _chunks(self) -> AsyncIterator[str]:
        async for block in self._raw:
            yield self._decoder.decode(block)
        tail = self._decoder.decode(b"", final=True)
        if tail:
            yield tail


class TextWriter:
    """A file opened with ``mode="w"``: ``await write(text)`` (UTF-8)."""

    def __init__(self, raw: StorageWriter, encoding: str = "utf-8"):
        self._raw = raw
        self._encoding = encoding

    async def write(self, text: str) -> int:
        await self._raw.write(text.encode(self._encoding))
        return len(text)


_H = TypeVar("_H")


class _Opening(Generic[_H]):
    """``async with file.open(mode) as f``: opens on enter, publishes (or discards) on exit."""

    def __init__(self, path: str, mode: str, block_size: int | None):
        if mode not in ("rb", "r", "wb", "w"):
            raise ValueError(f"File.open: mode must be 'rb', 'r', 'wb' or 'w', got {mode!r}")
        self._path = path
        self._mode = mode
        self._block_size = block_size
        self._raw: StorageReader | StorageWriter | None = None

    async def __aenter__(self) -> _H:
        import flyte.storage as storage

        if self._mode in ("rb", "r"):
            kwargs = {"block_size": self._block_size} if self._block_size else {}
            reader = await storage.open(self._path, "rb", **kwargs)
            self._raw = reader
            return reader if self._mode == "rb" else TextReader(reader)  # type: ignore[return-value]
        writer = await storage.open(self._path, "wb")
        self._raw = writer
        return writer if self._mode == "wb" else TextWriter(writer)  # type: ignore[return-value]

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self._raw is not None:
            await self._raw.__aexit__(exc_type, exc, tb)


@dataclasses.dataclass
class StoredData(Generic[T]):
    """What a File and a Dir share: where the data is, its name, format label and cache key."""

    path: str
    name: str | None = None
    format: str = ""
    hash: str | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.path, str) or not self.path:
            raise ValueError(f"{type(self).__name__}.path must be a non-empty string, got {self.path!r}")
        if self.name is None:
            self.name = base_name(self.path)


@dataclasses.dataclass
class File(StoredData[T]):
    """A file on local disk or in a blob store (``s3://``, ``gs://``, ``abfs://``).

    Tasks take and return ``File``; what crosses between them is a reference (a single blob
    literal), never the bytes. ``T`` names the content's format for readers of the signature
    (``File[Literal["csv"]]``); the literal carries the ``format`` attribute.

    Example:
        >>> async def count_lines(f: File) -> int:  # doctest: +SKIP
        ...     async with f.open("r") as fh:
        ...         return (await fh.read()).count("\\n")
        >>> async def write() -> File:  # doctest: +SKIP
        ...     out = File.new_remote("report.txt")
        ...     async with out.open("w") as fh:
        ...         await fh.write("hello")
        ...     return out

    Attributes:
        path: local path or URI.
        name: file name (default: the last segment of ``path``).
        format: free-form format label written into the literal's blob type (``"csv"``).
        hash: a cache key for the content, when known; carried as the literal's ``hash``.
    """

    # --- constructors ------------------------------------------------------------------------

    @classmethod
    def new_remote(cls, file_name: str | None = None) -> File[T]:
        """A file to be written, at a fresh location under the raw data path."""
        return cls(path=new_raw_data_uri(file_name) if file_name else new_raw_data_uri())

    @classmethod
    def from_existing_remote(cls, remote_path: str, file_cache_key: str | None = None) -> File[T]:
        """A reference to a file that already exists (nothing is copied)."""
        return cls(path=remote_path, hash=file_cache_key)

    @classmethod
    async def from_local(cls, local_path: str | os.PathLike[str], remote_destination: str | None = None) -> File[T]:
        """Upload a local file under the raw data path (or to ``remote_destination``).

        When the raw data path is itself local and no destination is given, nothing is copied:
        the file is referred to where it is.

        Raises:
            ValueError: ``local_path`` is not an existing file.
        """
        import flyte.storage as storage

        src, name = resolve_local(local_path, folder=False, caller="File.from_local")
        if remote_destination is None and not _is_remote(raw_data_path()):
            return cls(path=src, name=name)
        uri = await storage.put(src, remote_destination or new_raw_data_uri(name))
        return cls(path=uri, name=name)

    @classmethod
    def from_local_sync(cls, local_path: str | os.PathLike[str], remote_destination: str | None = None) -> File[T]:
        """Blocking :meth:`from_local`."""
        return run_sync(cls.from_local(local_path, remote_destination), "File.from_local")

    # --- reading and writing -----------------------------------------------------------------

    @property
    def is_remote(self) -> bool:
        return _is_remote(self.path)

    @overload
    def open(self, mode: Literal["rb"] = "rb", block_size: int | None = None) -> _Opening[StorageReader]: ...
    @overload
    def open(self, mode: Literal["r"], block_size: int | None = None) -> _Opening[TextReader]: ...
    @overload
    def open(self, mode: Literal["wb"], block_size: int | None = None) -> _Opening[StorageWriter]: ...
    @overload
    def open(self, mode: Literal["w"], block_size: int | None = None) -> _Opening[TextWriter]: ...
    def open(self, mode: str = "rb", block_size: int | None = None) -> _Opening[Any]:
        """Open for streaming reads or writes: ``async with f.open("rb") as fh``.

        Reads fetch ``block_size`` bytes at a time (``await fh.read(n)``, ``async for block in
        fh``); writes are published whole when the block ends, and discarded if it raises.
        """
        return _Opening(self.path, mode, block_size)

    @contextlib.contextmanager
    def open_sync(self, mode: str = "rb") -> Iterator[IO[Any]]:
        """Blocking open; yields an ordinary Python file object.

        A remote file is downloaded to a temporary file for reading, or written to one and
        uploaded when the block ends (and not uploaded if it raises).
        """
        if mode not in ("rb", "r", "wb", "w"):
            raise ValueError(f"File.open_sync: mode must be 'rb', 'r', 'wb' or 'w', got {mode!r}")
        if not self.is_remote:
            local = _local_path(self.path)
            if "w" in mode:
                os.makedirs(os.path.dirname(os.path.abspath(local)), exist_ok=True)
            with builtins.open(local, mode) as fh:
                yield fh
            return
        import flyte.storage as storage

        scratch = tempfile.mkdtemp(prefix="flyte-io-")
        try:
            local = os.path.join(scratch, self.name or "file")
            if "r" in mode:
                storage.get_sync(self.path, local)
                with builtins.open(local, mode) as fh:
                    yield fh
            else:
                with builtins.open(local, mode) as fh:
                    yield fh
                storage.put_sync(local, self.path)
        finally:
            shutil.rmtree(scratch, ignore_errors=True)

    async def download(self, local_path: str | os.PathLike[str] | None = None) -> str:
        """Copy the file to local disk and return its local path.

        A local file with no ``local_path`` given is already there: its path is returned.
        """
        import flyte.storage as storage

        if local_path is None:
            if not self.is_remote:
                return _local_path(self.path)
            local_path = storage.get_random_local_path(self.name)
        return await storage.get(self.path, str(local_path))

    def download_sync(self, local_path: str | os.PathLike[str] | None = None) -> str:
        """Blocking :meth:`download`."""
        return run_sync(self.download(local_path), "File.download")

    async def exists(self) -> bool:
        import flyte.storage as storage

        return await storage.exists(self.path)

    def exists_sync(self) -> bool:
        if not self.is_remote:
            return os.path.exists(_local_path(self.path))
        import flyte.storage as storage

        return storage.exists_sync(self.path)
