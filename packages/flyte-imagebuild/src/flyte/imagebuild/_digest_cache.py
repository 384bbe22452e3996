"""Digests of files in a folder, remembered between runs by size, mtime, inode and mode.

Git's index does the same for ``git status``. A file whose mtime is within the last couple of
seconds is never remembered ("racy" in git's words): it could change again within the
file system's timestamp granularity without its stat changing.

Each entry is one string, ``"<size>:<mtime_ns>:<inode>:<mode>|<digest>"``: a JSON object of
strings parses about three times faster than one of lists, which matters for a no-op rebuild of
a 10,000-file folder.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import time
from pathlib import Path

_RACY_NS = 2_000_000_000
_FORMAT = "v2"


def default_digest_dir() -> Path:
    """``$XDG_CACHE_HOME/flyte/imagebuild/digests`` (``~/.cache/...`` by default)."""
    cache = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(cache) / "flyte" / "imagebuild" / "digests"


class DigestCache:
    """The remembered digests of one folder's files, keyed by their path inside it."""

    def __init__(self, path: Path):
        self.path = path
        self._entries: dict[str, str] = {}
        self._changed = False
        self._now_ns = time.time_ns()
        try:
            loaded = json.loads(path.read_bytes())
            if isinstance(loaded, dict) and loaded.pop("", None) == _FORMAT:
                self._entries = loaded
        except (OSError, ValueError):
            pass  # no cache yet, an older format or a damaged one: start over

    @classmethod
    def for_folder(cls, root: Path) -> DigestCache:
        key = hashlib.sha256(str(root.resolve()).encode()).hexdigest()
        return cls(default_digest_dir() / f"{key}.json")

    @staticmethod
    def stamp(st: os.stat_result) -> str:
        """What must be unchanged for a remembered digest to be used."""
        return f"{st.st_size}:{st.st_mtime_ns}:{st.st_ino}:{st.st_mode}"

    def get(self, rel: str, st: os.stat_result) -> str | None:
        """The remembered digest of ``rel`` if its stat is unchanged."""
        entry = self._entries.get(rel)
        if entry is None:
            return None
        stamp, _, digest = entry.partition("|")
        return digest if stamp == self.stamp(st) and digest else None

    def put(self, rel: str, st: os.stat_result, digest: str) -> str:
        """Remember ``digest`` for ``rel`` (unless the file changed too recently); return it."""
        if st.st_mtime_ns < self._now_ns - _RACY_NS:
            self._entries[rel] = f"{self.stamp(st)}|{digest}"
            self._changed = True
        return digest

    def save(self) -> None:
        """Write the cache back if it learned something; a failure to write is not an error."""
        if not self._changed:
            return
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            write_atomically(self.path, json.dumps({"": _FORMAT, **self._entries}, separators=(",", ":")))
        except OSError:
            pass
        self._changed = False


def write_atomically(path: Path, text: str) -> None:
    """Write ``path`` through a fresh temporary file in its folder and a rename: a concurrent
    reader sees the old file or the new one, never half of one. (``tempfile`` would do the same
    but costs a no-op rebuild tens of milliseconds of imports.)"""
    tmp = path.parent / f".tmp-{os.getpid()}-{os.urandom(6).hex()}"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "w") as f:
            f.write(text)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
