"""Digests of files in a folder, remembered between runs by size, mtime, inode and mode.

Git's index does the same for ``git status``. A file whose mtime is within the last couple of
seconds is never remembered ("racy" in git's words): it could change again within the
file system's timestamp granularity without its stat changing.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
import time
from pathlib import Path

_RACY_NS = 2_000_000_000


def default_digest_dir() -> Path:
    """``$XDG_CACHE_HOME/flyte/imagebuild/digests`` (``~/.cache/...`` by default)."""
    cache = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(cache) / "flyte" / "imagebuild" / "digests"


class DigestCache:
    """The remembered digests of one folder's files, keyed by their path inside it."""

    def __init__(self, path: Path):
        self.path = path
        self._entries: dict[str, list[object]] = {}
        self._changed = False
        self._now_ns = time.time_ns()
        try:
            loaded = json.loads(path.read_text())
            if isinstance(loaded, dict):
                self._entries = loaded
        except (OSError, ValueError):
            pass  # no cache yet, or a damaged one: start over

    @classmethod
    def for_folder(cls, root: Path) -> DigestCache:
        key = hashlib.sha256(str(root.resolve()).encode()).hexdigest()
        return cls(default_digest_dir() / f"{key}.json")

    @staticmethod
    def _stamp(st: os.stat_result) -> list[object]:
        return [st.st_size, st.st_mtime_ns, st.st_ino, st.st_mode]

    def get(self, rel: str, st: os.stat_result) -> str | None:
        """The remembered digest of ``rel`` if its stat is unchanged."""
        entry = self._entries.get(rel)
        if entry is not None and entry[:4] == self._stamp(st):
            digest = entry[4]
            return digest if isinstance(digest, str) else None
        return None

    def put(self, rel: str, st: os.stat_result, digest: str) -> str:
        """Remember ``digest`` for ``rel`` (unless the file changed too recently); return it."""
        if st.st_mtime_ns < self._now_ns - _RACY_NS:
            self._entries[rel] = [*self._stamp(st), digest]
            self._changed = True
        return digest

    def save(self) -> None:
        """Write the cache back if it learned something; a failure to write is not an error."""
        if not self._changed:
            return
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=self.path.parent, prefix=".tmp-")
            with os.fdopen(fd, "w") as f:
                json.dump(self._entries, f, separators=(",", ":"))
            os.replace(tmp, self.path)
        except OSError:
            pass
        self._changed = False
