"""Streaming: `open` for reading and writing, `get_stream` and `put_stream`.

Memory stays bounded whatever the object's size: readers fetch ranges of ``block_size`` bytes;
writers spool to a temporary file and publish it in one step when closed (a rename on local
disk, an upload to a store), so no reader ever sees a partial object and a writer that fails
or is discarded leaves nothing behind.
"""

from __future__ import annotations

import asyncio
import builtins
import contextlib
import os
import secrets
import tempfile
from collections.abc import AsyncIterable, AsyncIterator, Awaitable, Callable, Iterable
from types import TracebackType
from typing import Any, Literal, overload

from flyte.storage import _local
from flyte.storage._backends import filesystem
from flyte.storage._config import config_for
from flyte.storage._errors import InvalidStoragePathError, StorageConfigError
from flyte.storage._retry import retrying
from flyte.storage._transfer import _put_file, default_remote_path
from flyte.storage._uri import Location, parse

__all__ = ["StorageReader", "StorageWriter", "get_stream", "open", "put_stream"]

DEFAULT_BLOCK_SIZE = 8 * 2**20
_WRITE_BUFFER = 2**20  # small writes are gathered before a thread hop to the disk
_SMALL_LOCAL = 2**20  # a local file up to this size is read in one thread hop


class StorageReader:
    """A file opened for reading with `open`: ``await read(n)``, ``async for block in reader``.

    Use it as ``async with await storage.open(uri) as f``; it fetches ``block_size`` bytes at a
    time, so memory stays bounded for any object size.
    """

    def __init__(self, location: Location, size: int, fetch: Callable[[int, int], Awaitable[bytes]], block_size: int):
        self.location = location
        self.size = size
        self._fetch = fetch
        self._block_size = block_size
        self._pos = 0
        self._buf = b""
        self._buf_start = 0
        self._close_hook: Callable[[], None] | None = None
        self.closed = False

    async def read(self, n: int = -1) -> bytes:
        """Up to ``n`` bytes (all that is left when ``n`` < 0); ``b""`` at the end."""
        if self.closed:
            raise InvalidStoragePathError(self.location.uri, "read from a closed file")
        remaining = self.size - self._pos
        n = remaining if n < 0 else min(n, remaining)
        if n <= 0:
            return b""
        end = self._pos + n
        if not (self._buf_start <= self._pos and end <= self._buf_start + len(self._buf)):
            fetch_end = min(self.size, max(end, self._pos + self._block_size))
            self._buf = await self._fetch(self._pos, fetch_end)
            self._buf_start = self._pos
        offset = self._pos - self._buf_start
        data = self._buf[offset : offset + n]
        self._pos += len(data)
        if not data:  # the object shrank under us: stop instead of spinning
            self.size = self._pos
        return data

    def tell(self) -> int:
        return self._pos

    def seek(self, offset: int) -> int:
        """Move to absolute ``offset`` (clamped to the file)."""
        self._pos = max(0, min(offset, self.size))
        return self._pos

    def __aiter__(self) -> AsyncIterator[bytes]:
        return self._blocks()

    async def _blocks(self) -> AsyncIterator[bytes]:
        while block := await self.read(self._block_size):
            yield block

    async def close(self) -> None:
        if not self.closed:
            self.closed = True
            self._buf = b""
            if self._close_hook is not None:
                await asyncio.to_thread(self._close_hook)

    async def __aenter__(self) -> StorageReader:
        return self

    async def __aexit__(self, *_: object) -> None:
        await self.close()


class StorageWriter:
    """A file opened for writing with `open`: ``await write(data)``; published on ``close()``.

    Leaving an ``async with`` block by an exception discards the file instead: nothing is
    published and any earlier object at the path is untouched.
    """

    def __init__(self, location: Location, spool_path: str, publish: Callable[[str], Awaitable[None]]):
        self.location = location
        self._spool_path = spool_path
        self._publish = publish
        # Held open across awaits until close() or discard(): a `with` block cannot span them.
        self._file = builtins.open(spool_path, "wb")  # noqa: SIM115
        self._pending: list[bytes] = []
        self._pending_size = 0
        self.closed = False

    async def write(self, data: bytes | bytearray | memoryview) -> int:
        if self.closed:
            raise InvalidStoragePathError(self.location.uri, "write to a closed file")
        chunk = bytes(data)
        self._pending.append(chunk)
        self._pending_size += len(chunk)
        if self._pending_size >= _WRITE_BUFFER:
            await self._flush()
        return len(chunk)

    async def _flush(self) -> None:
        if self._pending:
            data = b"".join(self._pending)
            self._pending, self._pending_size = [], 0
            await asyncio.to_thread(self._file.write, data)

    async def close(self) -> None:
        """Publish what was written. On failure nothing is published and the spool is removed."""
        if self.closed:
            return
        self.closed = True
        try:
            await self._flush()
            await asyncio.to_thread(self._file.close)
            await self._publish(self._spool_path)
        finally:
            self._drop_spool()

    async def discard(self) -> None:
        """Throw away what was written; nothing is published."""
        if not self.closed:
            self.closed = True
            self._pending = []
            await asyncio.to_thread(self._file.close)
            self._drop_spool()

    def _drop_spool(self) -> None:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(self._spool_path)

    async def __aenter__(self) -> StorageWriter:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if exc_type is None:
            await self.close()
        else:
            await self.discard()


@overload
async def open(path: str | os.PathLike[str], mode: Literal["rb"] = "rb", block_size: int = ...) -> StorageReader: ...
@overload
async def open(path: str | os.PathLike[str], mode: Literal["wb"], block_size: int = ...) -> StorageWriter: ...
async def open(
    path: str | os.PathLike[str], mode: str = "rb", block_size: int = DEFAULT_BLOCK_SIZE
) -> StorageReader | StorageWriter:
    """Open a file or object for streaming reads (``"rb"``) or writes (``"wb"``).

    Example:
        >>> async def copy_header(src: str, dst: str) -> None:
        ...     async with await open(src) as f, await open(dst, "wb") as out:
        ...         await out.write(await f.read(1024))

    Raises:
        StorageNotFoundError: reading something that does not exist.
        InvalidStoragePathError: reading a folder, or writing where a folder is.
        StorageConfigError: a mode other than ``"rb"`` or ``"wb"``.
    """
    if mode not in ("rb", "wb"):
        raise StorageConfigError("mode", f"expected 'rb' or 'wb', got {mode!r}")
    if block_size < 1:
        raise StorageConfigError("block_size", f"expected >= 1, got {block_size}")
    loc = parse(path)
    if mode == "rb":
        return await _open_reader(loc, block_size)
    return await _open_writer(loc)


async def _open_reader(loc: Location, block_size: int) -> StorageReader:
    if loc.is_local:
        await asyncio.to_thread(_local.require_file, loc.path, loc.uri)
        fd = await asyncio.to_thread(os.open, loc.path, os.O_RDONLY)
        size = os.fstat(fd).st_size

        async def read_local(start: int, end: int) -> bytes:
            return await asyncio.to_thread(os.pread, fd, end - start, start)

        reader = StorageReader(loc, size, read_local, block_size)
        reader._close_hook = lambda: os.close(fd)
        return reader
    fs = await filesystem(loc)
    config = config_for(loc.protocol)
    info: dict[str, Any] = await retrying(lambda: fs._info(loc.path), uri=loc.uri, config=config)
    if info.get("type") == "directory":
        raise InvalidStoragePathError(loc.uri, "is a folder; expected a file to read")

    async def read_remote(start: int, end: int) -> bytes:
        data: bytes = await retrying(lambda: fs._cat_file(loc.path, start=start, end=end), uri=loc.uri, config=config)
        return data

    return StorageReader(loc, int(info["size"]), read_remote, block_size)


async def _open_writer(loc: Location) -> StorageWriter:
    if loc.uri.endswith(("/", os.sep)):
        raise InvalidStoragePathError(loc.uri, "ends with a separator; expected a file path to write")
    if loc.is_local:
        await asyncio.to_thread(_local.prepare_parent, loc.path, loc.uri)
        spool = _local.temp_sibling(loc.path)

        async def publish_local(spool_path: str) -> None:
            # The target may have become a folder since open(); os.replace would fail clearly.
            await asyncio.to_thread(os.replace, spool_path, loc.path)

        return StorageWriter(loc, spool, publish_local)
    await filesystem(loc)  # fail now, not at close(), when the backend's extra is missing
    spool = os.path.join(tempfile.gettempdir(), f"flyte-upload-{secrets.token_hex(8)}{_local.PART_SUFFIX}")

    async def publish_remote(spool_path: str) -> None:
        await _put_file(spool_path, loc)

    return StorageWriter(loc, spool, publish_remote)


async def get_stream(path: str | os.PathLike[str], chunk_size: int = DEFAULT_BLOCK_SIZE) -> AsyncIterator[bytes]:
    """Yield the bytes of a file or object in chunks of at most ``chunk_size``.

    Example:
        >>> async def count(uri: str) -> int:
        ...     return sum([len(c) async for c in get_stream(uri)])
    """
    if chunk_size < 1:
        raise StorageConfigError("chunk_size", f"expected >= 1, got {chunk_size}")
    loc = parse(path)
    if loc.is_local:
        # A small local file (inputs.pb, outputs.pb...) in one thread hop, not one per step.
        whole = await asyncio.to_thread(_local.read_small, loc.path, loc.uri, min(chunk_size, _SMALL_LOCAL))
        if whole is not None:
            if whole:
                yield whole
            return
    reader = await open(path, "rb", block_size=chunk_size)
    async with reader:
        while chunk := await reader.read(chunk_size):
            yield chunk


async def put_stream(
    data_iterable: AsyncIterable[bytes] | Iterable[bytes] | bytes,
    *,
    name: str | None = None,
    to_path: str | None = None,
) -> str:
    """Write bytes, or an (async) iterable of byte chunks, to a file or object.

    Args:
        data_iterable: the data.
        name: file name under the configured raw data prefix, when ``to_path`` is not given.
        to_path: the destination URI or local path.

    Returns:
        The destination URI. If the iterable raises, nothing is written.
    """
    destination = to_path if to_path is not None else default_remote_path(name or secrets.token_hex(8))
    if isinstance(data_iterable, (bytes, bytearray, memoryview)):
        loc = parse(destination)
        if loc.is_local:
            if loc.uri.endswith(("/", os.sep)):
                raise InvalidStoragePathError(loc.uri, "ends with a separator; expected a file path to write")
            await asyncio.to_thread(_local.write_bytes, loc.path, loc.uri, data_iterable)
            return loc.uri
    writer = await open(destination, "wb")
    async with writer:
        if isinstance(data_iterable, (bytes, bytearray, memoryview)):
            await writer.write(data_iterable)
        elif isinstance(data_iterable, AsyncIterable):
            async for chunk in data_iterable:
                await writer.write(chunk)
        else:
            for chunk in data_iterable:
                await writer.write(chunk)
    return writer.location.uri
