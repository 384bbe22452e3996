"""The ``tgz`` code bundle: a deterministic gzip'd tar of a project's source tree.

Same files, same bytes: entries are sorted by name; every entry is a regular file (folders are
implied by the paths, links are stored as what they point to) owned by uid/gid 0 with empty
owner names, modified at the epoch, with mode 0644, or 0755 when the file has any execute bit;
the tar format is POSIX.1-2001 (pax), whose extended headers only appear for long or non-ASCII
names and carry nothing from the machine. The gzip layer and the name are
:mod:`._artifact`'s.
"""

from __future__ import annotations

import os
import tarfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from flyte.errors import CodeBundleError
from flyte.runtime._bundle._artifact import ContentAddressedWriter
from flyte.runtime._bundle._ignore import SourceFile, list_source_files

__all__ = ["TgzBundle", "build_tgz_bundle"]

TGZ_SUFFIX = "tar.gz"
_EPOCH = 0


@dataclass(frozen=True)
class TgzBundle:
    """A built ``tgz`` code bundle.

    Attributes:
        path: the archive, ``<out_dir>/fast<first 32 hex digits of digest>.tar.gz``.
        digest: hex SHA-256 of the uncompressed tar stream (what the name is derived from).
        file_count: how many files it holds.
        size: the archive's size in bytes.
    """

    path: Path
    digest: str
    file_count: int
    size: int


def build_tgz_bundle(root: Path, out_dir: Path, *, extra_ignores: Iterable[str] = ()) -> TgzBundle:
    """Pack the project under ``root`` into a deterministic ``.tar.gz`` in ``out_dir``.

    What is shipped follows ``.gitignore`` and ``.flyteignore`` files (root and nested) and never
    includes ``.git``, ``__pycache__``, ``*.pyc``, virtualenvs, ``node_modules`` or ``out_dir``.
    Building the same files again, on any machine, gives the same bytes and the same name, so an
    unchanged project is never uploaded twice.

    Args:
        root: the project folder; archive paths are relative to it.
        out_dir: where to write the archive (created if missing; skipped if inside ``root``).
        extra_ignores: more gitignore-style patterns, applied after the root's ignore files.

    Returns:
        The bundle's path, digest, file count and size.

    Raises:
        CodeBundleError: a file cannot be read, a symlink leaves ``root``, or ``out_dir`` is not
            writable; the message names the path.

    Example:
        >>> bundle = build_tgz_bundle(Path("."), Path("/tmp/bundles"))  # doctest: +SKIP
        >>> bundle.path.name  # doctest: +SKIP
        'fast5f0c...e1.tar.gz'
    """
    files = list_source_files(root, extra_ignores=extra_ignores, skip=[out_dir])
    with ContentAddressedWriter(out_dir) as out:
        with tarfile.open(fileobj=out, mode="w", format=tarfile.PAX_FORMAT) as tar:
            added = sum(_add(tar, source) for source in files)
        path, digest, size = out.commit(TGZ_SUFFIX)
    return TgzBundle(path=path, digest=digest, file_count=added, size=size)


def _add(tar: tarfile.TarFile, source: SourceFile) -> bool:
    """Archive ``source``; False when it was deleted after the walk listed it (a server's
    ``server.json``, an editor's swap file): what no longer exists is not part of the source."""
    info = tarfile.TarInfo(source.arcname)
    info.mtime = _EPOCH
    info.mode = 0o755 if source.executable else 0o644
    info.uid = info.gid = 0
    info.uname = info.gname = ""
    try:
        f = open(source.path, "rb")  # noqa: SIM115 - closed below; the except must not cover the copy's errors
    except FileNotFoundError:
        return False
    except OSError as e:
        raise CodeBundleError(f"cannot bundle {source.arcname}: {e.strerror or e}") from e
    try:
        with f:
            # The size comes from the open file: a file replaced between the walk and now is
            # archived as it is when read, never with a stale length.
            info.size = os.fstat(f.fileno()).st_size
            tar.addfile(info, f)
    except OSError as e:
        # tarfile raises a bare OSError when the file shrinks while it is copied.
        reason = e.strerror or str(e)
        raise CodeBundleError(f"cannot bundle {source.arcname}: {reason}") from e
    return True
