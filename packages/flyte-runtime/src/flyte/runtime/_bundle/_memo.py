"""Code bundles a warm worker has unpacked once, kept in its memory for the attempts it forks.

Every attempt of a fan-out runs from the same ``tgz`` bundle. Unpacking it in each forked child
means decompressing, parsing and checking the same archive again, then compiling the same
modules. Instead the worker (``flyte.runtime._worker``), before it forks an attempt, calls
:func:`preload` with the bundle the attempt names: the first time, the archive is unpacked with
:func:`extract_bundle` (every check applies) into a scratch folder, its modules are compiled to
hash-checked bytecode (which stays valid whatever the files' modification times), and the files
are read into memory. The child's :func:`extract_bundle` then finds the archive here and writes
those files into its working folder: the same files, the same staging and publishing, and
bytecode Python would have written itself (it verifies the source hash before using it).

Only local bundle files are remembered, keyed by device, inode, size and modification time, so
a replaced or edited archive is unpacked afresh. A bundle that fails to unpack is not
remembered: the child unpacks it and reports the error as it always does.
"""

from __future__ import annotations

import contextlib
import os
import py_compile
import shutil
import sys
import tempfile
from collections import OrderedDict
from dataclasses import dataclass
from importlib.util import cache_from_source
from pathlib import Path
from urllib.parse import unquote, urlparse

__all__ = ["Unpacked", "forget", "lookup", "preload", "write_into"]

MAX_BUNDLES = 8
MAX_BUNDLE_BYTES = 16 * 2**20  # uncompressed; a bigger bundle is unpacked by each attempt
MAX_TOTAL_BYTES = 64 * 2**20

_Key = tuple[int, int, int, int]


@dataclass(frozen=True)
class Unpacked:
    """A bundle's folders, files (``/``-separated relative path, contents, mode) and bytecode."""

    folders: tuple[str, ...]
    files: tuple[tuple[str, bytes, int], ...]
    bytecode: tuple[tuple[str, bytes], ...]  # (relative .pyc path, contents)
    size: int


_memo: OrderedDict[_Key, Unpacked] = OrderedDict()


def _local_path(uri: str | None) -> str | None:
    if not uri:
        return None
    if uri.startswith("file:"):
        parsed = urlparse(uri)
        if parsed.netloc not in ("", "localhost"):
            return None
        return unquote(parsed.path)
    return uri if os.path.isabs(uri) else None


def _key(path: str) -> _Key | None:
    try:
        info = os.stat(path)
    except OSError:
        return None
    return (info.st_dev, info.st_ino, info.st_size, info.st_mtime_ns)


def lookup(archive: str | os.PathLike[str]) -> Unpacked | None:
    """What :func:`preload` kept of ``archive``, if the file is still the one it read."""
    if not _memo:
        return None
    key = _key(os.fspath(archive))
    return _memo.get(key) if key is not None else None


def forget() -> None:
    """Drop every remembered bundle."""
    _memo.clear()


def preload(uri: str | None) -> Unpacked | None:
    """Unpack the local bundle ``uri`` into memory unless it is there already; None when it is
    not a local file, too big, or does not unpack (the attempt will meet that error itself)."""
    path = _local_path(uri)
    key = _key(path) if path is not None else None
    if path is None or key is None:
        return None
    known = _memo.get(key)
    if known is not None:
        _memo.move_to_end(key)
        return known
    try:
        unpacked = _read(Path(path))
    except Exception:
        return None
    if unpacked is None:
        return None
    _memo[key] = unpacked
    while len(_memo) > MAX_BUNDLES or sum(u.size for u in _memo.values()) > MAX_TOTAL_BYTES:
        _memo.popitem(last=False)
    return unpacked


def _read(archive: Path) -> Unpacked | None:
    from flyte.runtime._bundle._extract import extract_bundle

    scratch = tempfile.mkdtemp(prefix="flyte-bundle-memo-")
    try:
        root = extract_bundle(archive, Path(scratch) / "b", max_bytes=MAX_BUNDLE_BYTES)
        folders: list[str] = []
        files: list[tuple[str, bytes, int]] = []
        size = 0
        for current, dirs, names in os.walk(root):
            dirs.sort()
            rel_dir = os.path.relpath(current, root)
            for name in dirs:
                folders.append(_join(rel_dir, name))
            for name in sorted(names):
                full = os.path.join(current, name)
                with open(full, "rb") as f:
                    data = f.read()
                size += len(data)
                files.append((_join(rel_dir, name), data, os.stat(full).st_mode & 0o777))
        bytecode = _compile(root, [rel for rel, _, _ in files])
        size += sum(len(data) for _, data in bytecode)
        return Unpacked(tuple(folders), tuple(files), tuple(bytecode), size)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def _join(folder: str, name: str) -> str:
    return name if folder == "." else f"{folder.replace(os.sep, '/')}/{name}"


def _compile(root: Path, names: list[str]) -> list[tuple[str, bytes]]:
    """Hash-checked bytecode for each module (not for those that do not compile, nor where the
    bundle carries its own ``__pycache__`` entry, nor when bytecode goes to a separate prefix)."""
    if sys.pycache_prefix is not None:
        return []
    present = set(names)
    out = []
    for rel in names:
        if not rel.endswith(".py"):
            continue
        with contextlib.suppress(FileNotFoundError):
            os.unlink(os.path.join(root, ".memo-pyc"))  # never read a previous module's bytecode
        target = cache_from_source(rel)
        if target in present or os.path.isabs(target):
            continue
        source = os.path.join(root, *rel.split("/"))
        cfile = os.path.join(root, ".memo-pyc")
        with contextlib.suppress(py_compile.PyCompileError, OSError, ValueError):
            py_compile.compile(
                source, cfile, doraise=True, invalidation_mode=py_compile.PycInvalidationMode.CHECKED_HASH
            )
            with open(cfile, "rb") as f:
                out.append((target, f.read()))
    with contextlib.suppress(FileNotFoundError):
        os.unlink(os.path.join(root, ".memo-pyc"))
    return out


def write_into(unpacked: Unpacked, staging: str) -> None:
    """Write ``unpacked`` into the empty folder ``staging`` (bytecode unless Python writes none)."""
    for rel in unpacked.folders:
        os.makedirs(os.path.join(staging, *rel.split("/")), mode=0o755, exist_ok=True)
    for rel, data, mode in unpacked.files:
        target = os.path.join(staging, *rel.split("/"))
        with open(target, "xb") as f:
            f.write(data)
        os.chmod(target, mode)
    if sys.dont_write_bytecode:
        return
    made: set[str] = set()
    for rel, data in unpacked.bytecode:
        target = os.path.join(staging, *rel.split("/"))
        folder = os.path.dirname(target)
        if folder not in made:
            os.makedirs(folder, mode=0o755, exist_ok=True)
            made.add(folder)
        with open(target, "xb") as f:
            f.write(data)
