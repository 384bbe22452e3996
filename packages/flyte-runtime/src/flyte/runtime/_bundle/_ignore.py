"""Which files of a project go into a code bundle.

The walk starts at the project root and applies, in this order:

1. Entries that are never shipped, whatever an ignore file says: ``.git`` (folder or the file a
   worktree or submodule uses), ``__pycache__``, ``*.pyc``, ``.venv``, ``node_modules``, any
   folder holding a ``pyvenv.cfg`` (a virtualenv by any name) and the folders passed as ``skip``
   (the bundle's own output folder).
2. ``.gitignore`` and ``.flyteignore`` files, at the root and in any folder below it, with git's
   semantics: a pattern is relative to the folder of its file, a deeper file overrides a
   shallower one, the last matching pattern of a file wins, ``!`` re-includes and ``dir/`` only
   matches folders. A folder's ``.flyteignore`` is read after its ``.gitignore``, so it can
   re-include what git ignores (``!data/``). As in git, nothing below an ignored folder can be
   re-included. Files above the root (a git repository's top level) and ``.git/info/exclude``
   are not read: the root is the bundle's world.
3. ``extra_ignores``: more gitignore lines, applied as if appended to the root's
   ``.flyteignore``.

A line that is not a valid pattern (a lone ``!``) is skipped with a warning, as git skips it.

Symbolic links are resolved only when they are not ignored. A link to a file or folder inside the
root is shipped as what it points to (a bundle never contains links, see ``_extract``); a link
that leaves the root is refused with :class:`~flyte.errors.CodeBundleError`, because silently
dropping code the task may import is worse than asking the user to ignore the link; a dangling
link is skipped (editors leave them as lock files). Sockets, fifos and devices are skipped.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from flyte.errors import CodeBundleError

if TYPE_CHECKING:
    from pathspec import GitIgnoreSpec

__all__ = ["IGNORE_FILES", "SourceFile", "list_source_files"]

log = logging.getLogger(__name__)

IGNORE_FILES = (".gitignore", ".flyteignore")
_NEVER_SHIPPED_DIRS = frozenset({".git", "__pycache__", ".venv", "node_modules"})
_NEVER_SHIPPED_SUFFIXES = (".pyc",)
_VENV_MARKER = "pyvenv.cfg"


@dataclass(frozen=True)
class SourceFile:
    """One file to ship.

    Attributes:
        arcname: its path relative to the root, ``/``-separated: the name inside the bundle.
        path: where to read it (through a symlink, if the entry is one).
        executable: whether any execute bit is set on the file (or the symlink's target).
    """

    arcname: str
    path: str
    executable: bool


@dataclass(frozen=True)
class _Layer:
    """The patterns of one folder's ignore files; ``prefix`` is that folder relative to the root."""

    prefix: str
    spec: GitIgnoreSpec

    def verdict(self, rel_path: str, is_dir: bool) -> bool | None:
        """True (ignored), False (re-included by ``!``) or None (no pattern matched)."""
        sub = rel_path[len(self.prefix) :]
        result = self.spec.check_file(sub + "/" if is_dir else sub)
        return result.include


def list_source_files(root: Path, *, extra_ignores: Iterable[str] = (), skip: Iterable[Path] = ()) -> list[SourceFile]:
    """Every file under ``root`` that belongs in a code bundle, sorted by ``arcname``.

    Raises:
        CodeBundleError: ``root`` is not a folder, a folder or an ignore file cannot be read, a
            symlink points outside ``root`` or symlinks form a loop.
    """
    root_real = os.path.realpath(root)
    if not os.path.isdir(root_real):
        raise CodeBundleError(f"cannot bundle {root}: it is not a folder")
    walk = _Walk(root_real, tuple(extra_ignores), frozenset(os.path.realpath(p) for p in skip))
    walk.visit(root_real, "", (), frozenset({root_real}))
    return sorted(walk.found, key=lambda f: f.arcname)


class _Walk:
    def __init__(self, root_real: str, extra_ignores: tuple[str, ...], skip: frozenset[str]) -> None:
        self.root_real = root_real
        self.extra_ignores = extra_ignores
        self.skip = skip
        self.found: list[SourceFile] = []

    def visit(self, dir_path: str, rel: str, layers: tuple[_Layer, ...], on_stack: frozenset[str]) -> None:
        """Collect the files of ``dir_path`` (whose name in the bundle is ``rel``) and below.

        ``on_stack`` holds the real paths of the folders being walked, to catch symlink loops.
        """
        try:
            entries = list(os.scandir(dir_path))
        except OSError as e:
            raise CodeBundleError(f"cannot bundle {rel or '.'}: cannot list the folder ({e.strerror})") from e
        names = {e.name for e in entries}
        if rel and _VENV_MARKER in names:
            return  # a virtualenv under any name: never user code
        layer = self._layer(dir_path, rel, names)
        if layer is not None:
            layers = (*layers, layer)
        for entry in entries:
            self._visit_entry(entry, rel + entry.name, layers, on_stack)

    def _visit_entry(
        self, entry: os.DirEntry[str], rel: str, layers: tuple[_Layer, ...], on_stack: frozenset[str]
    ) -> None:
        name = entry.name
        is_dir = entry.is_dir()  # follows symlinks: a link to a folder is matched as a folder
        if name == ".git" or (is_dir and name in _NEVER_SHIPPED_DIRS) or name.endswith(_NEVER_SHIPPED_SUFFIXES):
            return
        if _is_ignored(rel, is_dir, layers):
            return
        real = entry.path
        if entry.is_symlink():
            real = os.path.realpath(entry.path)
            if not os.path.exists(real):
                log.warning("code bundle: skipping %s, a symlink to %s, which does not exist", rel, real)
                return
            if is_dir and os.path.exists(os.path.join(real, _VENV_MARKER)):
                return  # a link to a virtualenv, wherever it lives
            if real != self.root_real and not real.startswith(self.root_real + os.sep):
                raise CodeBundleError(
                    f"cannot bundle {rel}: it is a symlink to {real}, outside the project root "
                    f"{self.root_real}; add it to .flyteignore or replace it with a copy"
                )
        if is_dir:
            if real in self.skip:
                return
            if real in on_stack:
                raise CodeBundleError(f"cannot bundle {rel}: it is a symlink to {real}, which contains it (a loop)")
            self.visit(real, rel + "/", layers, on_stack | {real})
        elif entry.is_file():
            executable = bool(entry.stat().st_mode & 0o111)
            self.found.append(SourceFile(rel, entry.path, executable))
        else:
            log.debug("code bundle: skipping %s, neither a file nor a folder", rel)

    def _layer(self, dir_path: str, rel: str, names: set[str]) -> _Layer | None:
        lines: list[str] = []
        for ignore_file in IGNORE_FILES:
            if ignore_file in names:
                lines += _read_lines(os.path.join(dir_path, ignore_file), rel + ignore_file)
        if not rel:
            lines += self.extra_ignores
        if not lines:
            return None
        return _Layer(rel, _compile(lines, f"the ignore files of {rel or 'the root'}"))


def _is_ignored(rel_path: str, is_dir: bool, layers: Sequence[_Layer]) -> bool:
    # Deeper ignore files take precedence, as in git: the first layer with an opinion decides.
    for layer in reversed(layers):
        verdict = layer.verdict(rel_path, is_dir)
        if verdict is not None:
            return verdict
    return False


def _read_lines(path: str, rel: str) -> list[str]:
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            return f.read().splitlines()
    except OSError as e:
        raise CodeBundleError(f"cannot bundle: cannot read the ignore file {rel} ({e.strerror})") from e


def _compile(lines: list[str], where: str) -> GitIgnoreSpec:
    # Imported here: pathspec is only needed when a bundle is built, not when flyte.runtime loads.
    from pathspec import GitIgnoreSpec

    try:
        return GitIgnoreSpec.from_lines(lines)
    except ValueError:  # pathspec's GitIgnorePatternError: some line is not a valid pattern
        pass
    # Git skips a pattern it cannot parse and keeps the others; so do we, but say so.
    valid = []
    for line in lines:
        try:
            GitIgnoreSpec.from_lines([line])
        except ValueError:
            log.warning("code bundle: ignoring the invalid pattern %r in %s", line, where)
        else:
            valid.append(line)
    return GitIgnoreSpec.from_lines(valid)
