"""The local record of built images: one small file per image, so a lookup is one ``stat``.

A record says "this URI was built (and pushed, for an image with a registry) from this machine".
It is trusted without asking the engine or the registry: that is what makes a no-op rebuild
instant. ``build(image, force=True)`` rebuilds regardless, and `BuildRecord.forget` drops one.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from pathlib import Path

from flyte.imagebuild._digest_cache import write_atomically


def default_record_dir() -> Path:
    """``$FLYTE_IMAGEBUILD_RECORD_DIR``, else ``$XDG_CACHE_HOME/flyte/imagebuild/built``."""
    explicit = os.environ.get("FLYTE_IMAGEBUILD_RECORD_DIR")
    if explicit:
        return Path(explicit)
    cache = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(cache) / "flyte" / "imagebuild" / "built"


class BuildRecord:
    """Built-image records under one folder (safe to share between processes)."""

    def __init__(self, folder: Path | None = None):
        self.folder = folder or default_record_dir()

    def _path(self, key: str) -> Path:
        return self.folder / hashlib.sha256(key.encode()).hexdigest()

    def has(self, key: str) -> bool:
        """Whether ``key`` (see `record_key`) was recorded."""
        return self._path(key).exists()

    def add(self, key: str, **details: str) -> None:
        """Record ``key``; written atomically, so a concurrent reader never sees half a record."""
        self.folder.mkdir(parents=True, exist_ok=True)
        write_atomically(self._path(key), json.dumps({"key": key, "time": time.time(), **details}))

    def forget(self, key: str) -> None:
        """Drop the record of ``key``, if any."""
        self._path(key).unlink(missing_ok=True)


def record_key(uri: str, registry: str | None, scope: str) -> str:
    """A pushed image is known by its URI; a local-only one by the URI on one builder's engine."""
    return uri if registry else f"{scope}|{uri}"
