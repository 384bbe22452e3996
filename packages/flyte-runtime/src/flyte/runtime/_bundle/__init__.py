"""Code bundles: how a task's code travels from the user's machine to the container that runs it.

- :func:`build_tgz_bundle` packs a project folder into a deterministic ``fast<hash>.tar.gz``;
- :func:`build_pkl_bundle` / :func:`load_pkl_bundle` ship a notebook-defined task as a
  ``fast<hash>.pkl.gz`` pickle;
- :func:`extract_bundle` unpacks a ``tgz`` bundle (``a0 --tgz <bundle> --dest .``) and refuses
  anything that could escape the destination or exhaust the disk;
- :func:`list_bundle_files` tells which files a ``tgz`` bundle of a folder would hold.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from flyte.runtime._bundle._extract import extract_bundle
from flyte.runtime._bundle._ignore import list_source_files
from flyte.runtime._bundle._limits import DEFAULT_MAX_BYTES, DEFAULT_MAX_FILES
from flyte.runtime._bundle._pkl import PklBundle, build_pkl_bundle, load_pkl_bundle
from flyte.runtime._bundle._tgz import TgzBundle, build_tgz_bundle

__all__ = [
    "DEFAULT_MAX_BYTES",
    "DEFAULT_MAX_FILES",
    "PklBundle",
    "TgzBundle",
    "build_pkl_bundle",
    "build_tgz_bundle",
    "extract_bundle",
    "list_bundle_files",
    "load_pkl_bundle",
]


def list_bundle_files(root: Path, *, extra_ignores: Iterable[str] = ()) -> list[str]:
    """The paths, relative to ``root`` and sorted, that :func:`build_tgz_bundle` would pack.

    Useful to check ignore rules (``flyte deploy --dry-run`` style) without building anything.

    Raises:
        CodeBundleError: as :func:`build_tgz_bundle` does for the same tree.
    """
    return [f.arcname for f in list_source_files(root, extra_ignores=extra_ignores)]
