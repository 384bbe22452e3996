"""Default limits on what reading a bundle may unpack: generous for source code, small enough
that a hostile or broken archive cannot fill a task's disk or memory."""

from __future__ import annotations

__all__ = ["DEFAULT_MAX_BYTES", "DEFAULT_MAX_FILES"]

DEFAULT_MAX_BYTES = 1 << 30  # 1 GiB of file contents (after decompression)
DEFAULT_MAX_FILES = 100_000  # archive members, folders included
