"""``flyte get io ... --download DIR``: copy the files, folders and DataFrames among an action's
inputs and outputs to a local folder.

Each value lands at ``DIR/<inputs|outputs>/<name>``: a file keeps its extension
(``outputs/o0.csv``), a folder or a DataFrame's dataset is a folder, and values inside lists and
dicts go one level down (``outputs/o0/1.csv``, ``outputs/o0/<key>``). Every target is checked
before the first byte moves, so an existing file is never overwritten. Each value is written
under a hidden ``.part`` name and renamed into place once complete: an interrupted or failed
download leaves no partial file behind. Bytes stream through ``flyte.storage`` in chunks, so
memory stays flat whatever the size (a local source is copied by the kernel, 16 MiB a step), and
each value reports to the command's progress display (one byte bar per value on a terminal).
"""

from __future__ import annotations

import asyncio
import os
import re
import shutil
import tempfile
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import flyte.storage as storage
from flyte.io import DataFrame, Dir, File

Transfer = Callable[[str, int], AbstractContextManager[Callable[[int], None]]]
"""``transfer(description, total_bytes)`` -> a context manager giving ``advance(nbytes)``."""

_CONCURRENT_FILES = 8
_LOCAL_STEP_BYTES = 16 << 20  # a kernel copy step between two bar updates
_CONCURRENT_LOOKUPS = 32  # size requests in flight while a folder is sized up
_CHUNK_BYTES = 1 << 20  # what one read and one bar step cover; 8 files in flight hold at most 8 MiB
_UNSAFE = re.compile(r"[^A-Za-z0-9._=+-]")


class DownloadError(Exception):
    """A download that cannot start (a target exists) or did not finish; names the value and path."""


@dataclass(frozen=True)
class Stored:
    """One value to download: its label (``outputs.o0[1]``), where it is, and where it goes."""

    label: str
    uri: str
    target: Path
    kind: str  # "file", "folder", or "dataset" (a DataFrame: a folder of files, or one file)


def _segment(key: object) -> str:
    """A dict key or list index as one safe path segment (no separators, no ``..``)."""
    text = _UNSAFE.sub("_", str(key)).lstrip(".")
    return text or "_"


def _suffix(uri: str) -> str:
    return Path(uri.rstrip("/").rsplit("/", 1)[-1]).suffix


def stored_values(io: dict[str, dict[str, Any]], kinds: list[str], dest: Path) -> list[Stored]:
    """Every File, Dir and written DataFrame among ``io[kind]`` for ``kind`` in ``kinds``,
    inside lists, tuples and dicts too, with the target each one gets below ``dest``."""
    found: list[Stored] = []

    def visit(value: Any, label: str, target: Path) -> None:
        if isinstance(value, File):
            found.append(Stored(label, value.path, target.with_name(target.name + _suffix(value.path)), "file"))
        elif isinstance(value, Dir):
            found.append(Stored(label, value.path, target, "folder"))
        elif isinstance(value, DataFrame):
            if value.uri:
                found.append(Stored(label, value.uri, target, "dataset"))
        elif isinstance(value, dict):
            for key, item in value.items():
                visit(item, f"{label}[{key!r}]", target / _segment(key))
        elif isinstance(value, (list, tuple)):
            for index, item in enumerate(value):
                visit(item, f"{label}[{index}]", target / str(index))

    for kind in kinds:
        for name, value in io[kind].items():
            visit(value, f"{kind}.{name}", dest / kind / _segment(name))
    return found


def check_targets(values: list[Stored], dest: Path) -> None:
    """Refuse before anything is downloaded: ``dest`` is not a folder, or a target exists."""
    if dest.exists() and not dest.is_dir():
        raise DownloadError(f"--download {dest}: not a folder")
    for value in values:
        if value.target.exists() or value.target.is_symlink():
            raise DownloadError(f"{value.target} exists (for {value.label}); nothing was downloaded")


async def download_all(values: list[Stored], transfer: Transfer) -> None:
    """Download ``values`` one after another (each one's files concurrently) into their targets."""
    for value in values:
        await _download(value, transfer)


async def _download(value: Stored, transfer: Transfer) -> None:
    try:
        files = await _files_of(value)
    except storage.StorageError as e:
        raise DownloadError(f"{value.label} ({value.uri}) cannot be read: {e}") from e
    total = sum(size for _, _, size in files)
    value.target.parent.mkdir(parents=True, exist_ok=True)
    part = Path(tempfile.mkdtemp(prefix=f".{value.target.name}.", suffix=".part", dir=value.target.parent))
    try:
        noun = _human(total) if value.kind == "file" else _count(len(files))
        with transfer(f"Downloading {value.label} ({noun})", total) as advance:
            limit = asyncio.Semaphore(_CONCURRENT_FILES)

            async def one(uri: str, relative: str) -> None:
                async with limit:
                    await _stream(uri, part / relative if relative else part / "data", advance)

            await asyncio.gather(*(one(uri, rel) for uri, rel, _ in files))
        # Whole: move it into place (a file is the one file in the part folder).
        os.replace(part / "data" if value.kind == "file" else part, value.target)
    except storage.StorageError as e:
        raise DownloadError(f"downloading {value.label} ({value.uri}) failed: {e}") from e
    except OSError as e:
        raise DownloadError(f"writing {value.label} to {value.target} failed: {e}") from e
    finally:
        shutil.rmtree(part, ignore_errors=True)


async def _files_of(value: Stored) -> list[tuple[str, str, int]]:
    """``(uri, path relative to the value, size)`` of each file; ``""`` for a single file."""
    if value.kind == "file":
        return [(value.uri, "", await storage.size(value.uri))]
    if value.kind == "dataset":
        try:  # a dataset written as one file rather than a folder
            single = await storage.size(value.uri)
        except storage.InvalidStoragePathError:
            pass
        else:
            return [(value.uri, _segment(value.uri.rstrip("/").rsplit("/", 1)[-1]), single)]
    uris = await storage.list_files(value.uri)
    limit = asyncio.Semaphore(_CONCURRENT_LOOKUPS)

    async def size(uri: str) -> int:
        async with limit:
            return await storage.size(uri)

    sizes = await asyncio.gather(*(size(uri) for uri in uris))
    return [(uri, _relative(uri, value.uri), size) for uri, size in zip(uris, sizes, strict=True)]


def _relative(uri: str, base: str) -> str:
    """``uri``'s path below the folder ``base`` (both as ``flyte.storage`` spells them)."""
    for prefix in (base, base.removeprefix("file://")):
        prefix = prefix.rstrip("/") + "/"
        if uri.startswith(prefix):
            relative = uri[len(prefix) :]
            if all(part not in ("", ".", "..") for part in relative.split("/")):
                return relative
    raise DownloadError(f"{uri} is not inside {base}")


async def _stream(uri: str, path: Path, advance: Callable[[int], None]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    local = _local_path(uri)
    if local is not None:  # the embedded server's blobs, a local run's data: the kernel copies
        await asyncio.to_thread(_copy_local, local, path, advance)
        return
    with path.open("wb") as out:
        async for chunk in storage.get_stream(uri, chunk_size=_CHUNK_BYTES):
            await asyncio.to_thread(out.write, chunk)
            advance(len(chunk))


def _local_path(uri: str) -> str | None:
    """The path of a local ``uri`` (a path, or ``file://`` with no host), else None."""
    if storage.is_remote(uri):
        return None
    if not uri.startswith("file://"):
        return uri
    host, _, rest = uri[len("file://") :].partition("/")
    return "/" + rest if host in ("", "localhost") else None


def _copy_local(src: str, dst: Path, advance: Callable[[int], None]) -> None:
    """Copy in the kernel (``copy_file_range``) a step at a time, so the bar still moves."""
    with open(src, "rb") as fin, dst.open("wb") as fout:
        try:
            while copied := os.copy_file_range(fin.fileno(), fout.fileno(), _LOCAL_STEP_BYTES):
                advance(copied)
            return
        except (AttributeError, OSError):  # no copy_file_range here (or not across these file systems)
            pass
        fin.seek(fout.tell())
        while chunk := fin.read(_CHUNK_BYTES):
            fout.write(chunk)
            advance(len(chunk))


def _count(files: int) -> str:
    return f"{files} file" if files == 1 else f"{files} files"


def _human(n: int) -> str:
    size = float(n)
    for unit in ("B", "KiB", "MiB"):
        if size < 1024:
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{size:.1f} GiB"
