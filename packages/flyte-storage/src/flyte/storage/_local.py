"""Local disk: atomic writes (a temporary sibling renamed into place) and the checks that turn
OS errors into clear storage errors.

A reader never sees a half-written file: data goes to ``.<name>.<random>.part`` in the target's
folder (the same filesystem, so the final ``os.replace`` is atomic) and is renamed only once
complete; on failure the temporary file is removed.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
import stat
import tempfile
import threading
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path

from flyte.storage._errors import InvalidStoragePathError, StorageNotFoundError

__all__ = [
    "atomic_target",
    "copy_file",
    "copy_files",
    "list_files",
    "make_dir",
    "make_dirs",
    "prepare_parent",
    "random_local_directory",
    "random_local_path",
    "read_small",
    "require_dir",
    "require_file",
    "temp_sibling",
    "write_bytes",
]

PART_SUFFIX = ".part"


def temp_sibling(target: str) -> str:
    """A fresh temporary name beside ``target``."""
    folder, name = os.path.split(target)
    return os.path.join(folder, f".{name}.{secrets.token_hex(6)}{PART_SUFFIX}")


def prepare_parent(target: str, uri: str) -> None:
    """Create ``target``'s parent folders; refuse a target that is an existing directory."""
    if os.path.isdir(target):
        raise InvalidStoragePathError(uri, "is a directory; expected a file path to write")
    parent = os.path.dirname(target)
    try:
        os.makedirs(parent, exist_ok=True)
    except (FileExistsError, NotADirectoryError):
        raise InvalidStoragePathError(uri, f"a parent of this path is a file, not a folder ({parent})") from None


def make_dir(path: str, uri: str) -> None:
    """Create the folder ``path`` and its parents; refuse when a file is in the way."""
    try:
        os.makedirs(path, exist_ok=True)
    except (FileExistsError, NotADirectoryError):
        raise InvalidStoragePathError(uri, "is a file (or lies below one); expected a folder") from None


@contextlib.contextmanager
def atomic_target(target: str, uri: str) -> Iterator[str]:
    """Yield a temporary path to write; rename it to ``target`` on success, remove it on failure."""
    prepare_parent(target, uri)
    temp = temp_sibling(target)
    try:
        yield temp
        os.replace(temp, target)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temp)
        raise


def copy_file(source: str, target: str, uri: str) -> None:
    """Copy one local file atomically (blocking: run it in a thread)."""
    with atomic_target(target, uri) as temp:
        shutil.copyfile(source, temp)


def copy_files(pairs: Sequence[tuple[str, str]], stop: threading.Event) -> None:
    """Copy each ``(source, target)`` atomically, in order, into folders that already exist
    (blocking: run it in a thread). Stops early once ``stop`` is set; sets it on a failure."""
    for source, target in pairs:
        if stop.is_set():
            return
        temp = temp_sibling(target)
        try:
            shutil.copyfile(source, temp)
            os.replace(temp, target)
        except BaseException as e:
            stop.set()
            with contextlib.suppress(FileNotFoundError):
                os.unlink(temp)
            if isinstance(e, IsADirectoryError):
                raise InvalidStoragePathError(target, "is a directory; expected a file path to write") from None
            raise


def make_dirs(paths: Iterable[str], uri: str) -> None:
    """Create each folder in ``paths`` (and its parents); refuse when a file is in the way."""
    for path in sorted(set(paths)):
        try:
            os.makedirs(path, exist_ok=True)
        except (FileExistsError, NotADirectoryError):
            raise InvalidStoragePathError(uri, f"a parent of a target is a file, not a folder ({path})") from None


def write_bytes(target: str, uri: str, data: bytes | bytearray | memoryview) -> None:
    """Write ``data`` to ``target`` atomically in one call (blocking: one thread hop for all of it)."""
    with atomic_target(target, uri) as temp, open(temp, "xb") as f:
        f.write(data)


def read_small(path: str, uri: str, limit: int) -> bytes | None:
    """The whole file when it holds at most ``limit`` bytes, else None (blocking).

    Raises:
        StorageNotFoundError: nothing at ``path``.
        InvalidStoragePathError: ``path`` is a folder.
    """
    try:
        fd = os.open(path, os.O_RDONLY)
    except FileNotFoundError:
        raise StorageNotFoundError(uri) from None
    except IsADirectoryError:
        raise InvalidStoragePathError(uri, "is a directory; pass recursive=True to transfer a directory") from None
    try:
        info = os.fstat(fd)
        if stat.S_ISDIR(info.st_mode):
            raise InvalidStoragePathError(uri, "is a directory; pass recursive=True to transfer a directory")
        if info.st_size > limit:
            return None
        chunks = []
        while chunk := os.read(fd, limit + 1):  # a file that grew since fstat is still read whole
            chunks.append(chunk)
            limit -= len(chunk)
            if limit < 0:
                return None
        return b"".join(chunks)
    finally:
        os.close(fd)


def require_file(path: str, uri: str) -> None:
    if not os.path.exists(path):
        raise StorageNotFoundError(uri)
    if os.path.isdir(path):
        raise InvalidStoragePathError(uri, "is a directory; pass recursive=True to transfer a directory")


def require_dir(path: str, uri: str) -> None:
    if not os.path.exists(path):
        raise StorageNotFoundError(uri)
    if not os.path.isdir(path):
        raise InvalidStoragePathError(uri, "is a file; recursive=True expects a directory")


def list_files(root: str) -> list[str]:
    """Every file below ``root``, as ``/``-separated paths relative to it (sorted)."""
    found = []
    for folder, _dirs, files in os.walk(root):
        rel_folder = os.path.relpath(folder, root)
        for name in files:
            rel = name if rel_folder == "." else os.path.join(rel_folder, name)
            found.append(rel.replace(os.sep, "/"))
    return sorted(found)


def random_local_directory() -> Path:
    """A new, empty folder under the system's temporary directory."""
    return Path(tempfile.mkdtemp(prefix="flyte-"))


def random_local_path(file_path_or_file_name: str | os.PathLike[str] | None = None) -> Path:
    """A fresh path inside a new random folder, ending in the given file's name (or a random one).

    The folder exists; the file does not.
    """
    name = Path(file_path_or_file_name).name if file_path_or_file_name else secrets.token_hex(8)
    return random_local_directory() / name
