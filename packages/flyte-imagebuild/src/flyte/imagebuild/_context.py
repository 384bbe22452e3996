"""The files an image build sends to the engine, and their content digests.

The same list serves the content hash and the build context, so what is hashed is exactly what
is built: a file left out by ``.dockerignore`` neither changes the tag nor reaches the engine.
"""

from __future__ import annotations

import hashlib
import os
import stat
from operator import attrgetter
from pathlib import Path
from typing import NamedTuple

from flyte.imagebuild._digest_cache import DigestCache
from flyte.imagebuild._dockerignore import DockerIgnore

_CHUNK = 1 << 20
_ARCNAME = attrgetter("arcname")


class ContextFile(NamedTuple):
    """One file of a build context (a named tuple: a 10,000-file folder makes 10,000 of them).

    Attributes:
        source: where the file is on this machine.
        arcname: its POSIX path inside the build context.
        digest: ``sha256`` of its content (of the target's name for a symlink), with the exec bit.
    """

    source: str | None
    arcname: str
    digest: str
    data: bytes | None = None
    """The content, for a file made by the build rather than read from ``source``."""

    @classmethod
    def generated(cls, arcname: str, data: bytes) -> ContextFile:
        """A context file with this content (no file on this machine)."""
        return cls(None, arcname, "f:" + hashlib.sha256(data).hexdigest(), data)


def file_digest(path: str, st: os.stat_result) -> str:
    """The digest of the file at ``path`` whose ``lstat`` is ``st``."""
    if stat.S_ISLNK(st.st_mode):
        return "link:" + os.readlink(path)
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(_CHUNK):
            h.update(chunk)
    # The exec bit is part of what a container sees; other mode bits and times are not.
    return ("x:" if st.st_mode & 0o111 else "f:") + h.hexdigest()


def folder_files(root: Path, arc_prefix: str, ignore: DockerIgnore | None = None) -> list[ContextFile]:
    """Every file under ``root`` that ``ignore`` (default: ``root/.dockerignore``) keeps, sorted.

    Digests of files unchanged since an earlier call (same size, mtime, inode and mode) come
    from a `DigestCache`, so hashing a large, unchanged folder again costs one ``stat`` a file.

    Raises:
        FileNotFoundError: ``root`` does not exist.
        NotADirectoryError: ``root`` is a file.
    """
    if not root.exists():
        raise FileNotFoundError(f"folder {root} does not exist")
    if not root.is_dir():
        raise NotADirectoryError(f"{root} is not a folder")
    rules = DockerIgnore.read(root / ".dockerignore") + (ignore or DockerIgnore())
    # Folders excluded outright are not walked, unless an exception could re-include a child;
    # then a file's parents were checked on the way down and only its own path is left to test.
    prune = not rules.has_exceptions
    matches = rules.path_matcher() if prune else None

    def excluded(rel: str) -> bool:
        if prune:
            return matches is not None and bool(matches(rel))
        return rules.excludes(rel)

    cache = DigestCache.for_folder(root)
    remembered = cache.get
    found: list[ContextFile] = []
    append = found.append
    stack = [(str(root), "")]
    # The hot loop of a no-op rebuild: one stat and a dictionary lookup per unchanged file.
    while stack:
        folder, rel = stack.pop()
        with os.scandir(folder) as entries:
            for entry in entries:
                child = rel + entry.name
                if entry.is_dir(follow_symlinks=False):
                    if not (prune and excluded(child)):
                        stack.append((entry.path, child + "/"))
                elif not excluded(child):
                    st = entry.stat(follow_symlinks=False)
                    digest = remembered(child, st) or cache.put(child, st, file_digest(entry.path, st))
                    append(ContextFile(entry.path, arc_prefix + child, digest))
    cache.save()
    found.sort(key=_ARCNAME)
    return found


def single_file(path: Path, arcname: str) -> ContextFile:
    """``path`` as one context file.

    Raises:
        FileNotFoundError: ``path`` does not exist or is a folder.
    """
    if not path.is_file():
        raise FileNotFoundError(f"file {path} does not exist" if not path.exists() else f"{path} is a folder")
    return ContextFile(str(path), arcname, file_digest(str(path), os.lstat(path)))
