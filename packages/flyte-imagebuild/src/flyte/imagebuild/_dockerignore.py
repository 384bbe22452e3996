"""`.dockerignore` patterns, matched the way the Docker engine matches them.

A path is excluded when the last pattern that matches it, or one of its parent folders, is not
an exception (``!pattern``). ``*`` and ``?`` stay within one path segment, ``**`` spans any
number of them, a leading ``/`` is dropped and ``.``/``..`` segments are cleaned, as Docker does.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class _Pattern:
    regex: re.Pattern[str]
    exception: bool


def _translate(pattern: str) -> re.Pattern[str]:
    out: list[str] = []
    i = 0
    while i < len(pattern):
        c = pattern[i]
        if pattern.startswith("**", i):
            i += 2
            if pattern.startswith("/", i):
                # "**/" also matches zero folders: "**/x" matches "x".
                out.append("(?:.*/)?")
                i += 1
            else:
                out.append(".*")
            continue
        if c == "*":
            out.append("[^/]*")
        elif c == "?":
            out.append("[^/]")
        elif c == "[":
            end = pattern.find("]", i + 1)
            if end == -1:
                out.append(re.escape(c))
            else:
                body = pattern[i + 1 : end]
                if body.startswith(("^", "!")):
                    body = "^" + body[1:]
                out.append(f"[{body}]")
                i = end
        elif c == "\\" and i + 1 < len(pattern):
            i += 1
            out.append(re.escape(pattern[i]))
        else:
            out.append(re.escape(c))
        i += 1
    return re.compile("".join(out) + r"\Z")


@dataclass(frozen=True)
class DockerIgnore:
    """The patterns of one ``.dockerignore`` file (or several, concatenated in order)."""

    patterns: tuple[_Pattern, ...] = ()

    @classmethod
    def parse(cls, text: str) -> DockerIgnore:
        found: list[_Pattern] = []
        for raw in text.splitlines():
            line = raw.strip()
            if not line or line.startswith("#"):
                continue
            exception = line.startswith("!")
            if exception:
                line = line[1:].strip()
            line = posixpath.normpath(line.lstrip("/")) if line.lstrip("/") else ""
            if not line or line == ".":
                continue
            found.append(_Pattern(_translate(line), exception))
        return cls(tuple(found))

    @classmethod
    def read(cls, path: Path) -> DockerIgnore:
        """The patterns of ``path``, or none when the file does not exist."""
        try:
            return cls.parse(path.read_text())
        except FileNotFoundError:
            return cls()

    def __add__(self, other: DockerIgnore) -> DockerIgnore:
        return DockerIgnore(self.patterns + other.patterns)

    @property
    def has_exceptions(self) -> bool:
        """Whether a ``!pattern`` may re-include something below an excluded folder."""
        return any(p.exception for p in self.patterns)

    def path_matcher(self) -> Callable[[str], object] | None:
        """For a walk that prunes excluded folders (no exceptions): a test of one path alone,
        truthy when it is excluded; None when nothing is excluded. One regex for all patterns."""
        if not self.patterns:
            return None
        if self.has_exceptions:
            raise ValueError("path_matcher() needs patterns without exceptions; use excludes()")
        return re.compile("|".join(f"(?:{p.regex.pattern})" for p in self.patterns)).match

    def excludes(self, rel_path: str, parents_checked: bool = False) -> bool:
        """Whether ``rel_path`` (POSIX, relative to the context root) is left out of the context.

        ``parents_checked``: the caller knows no parent folder is excluded (it walked down
        through them and there are no exceptions), so only the path itself is matched.
        """
        if not self.patterns:
            return False
        if parents_checked:
            prefixes = [rel_path]
        else:
            parts = rel_path.split("/")
            prefixes = ["/".join(parts[: i + 1]) for i in range(len(parts))]
        excluded = False
        for pattern in self.patterns:
            if any(pattern.regex.match(prefix) for prefix in prefixes):
                excluded = not pattern.exception
        return excluded
