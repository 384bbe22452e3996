"""Bump one distribution's version and move its dependents' ranges along.

``uv run python -m tools.bump flyte-types minor`` (or ``major``, ``patch``, or an explicit
``1.2.3``) rewrites ``_version.py``, opens a CHANGELOG section for the new version, updates every
sibling's ``<dist>>=X.Y,<...`` requirement to the new compatible range, and relocks. The release
tag for the result is ``<dist>-v<version>`` (docs/releasing.md).
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
from pathlib import Path

from packaging.version import InvalidVersion, Version

from tools.workspace import ROOT, Workspace, sibling_range


def next_version(current: str, part: str) -> str:
    v = Version(current)
    if part == "major":
        return f"{v.major + 1}.0.0"
    if part == "minor":
        return f"{v.major}.{v.minor + 1}.0"
    if part == "patch":
        return f"{v.major}.{v.minor}.{v.micro + 1}"
    try:
        explicit = Version(part)
    except InvalidVersion:
        raise SystemExit(f"version part must be major, minor, patch or a version like 1.2.3, not {part!r}") from None
    if explicit <= v:
        raise SystemExit(f"new version {explicit} must be greater than the current {v}")
    return str(explicit)


def bump(ws: Workspace, name: str, part: str, relock: bool = True) -> str:
    dist = ws[name]
    old, new = dist.version, next_version(dist.version, part)
    dist.version_file.write_text(dist.version_file.read_text().replace(f'"{old}"', f'"{new}"', 1))
    changelog = dist.path / "CHANGELOG.md"
    text = changelog.read_text()
    title, _, rest = text.partition("\n\n")
    changelog.write_text(f"{title}\n\n## {new} (unreleased)\n\n{rest}")
    # `"flyte-types>=0.1,<0.2"` (any extras, any old range) -> the new compatible range.
    pattern = re.compile(rf'"({re.escape(dist.name)}(\[[^\]]*\])?)\s*[<>=!~][^";]*"')
    for other in ws:
        pyproject = other.path / "pyproject.toml"
        text = pyproject.read_text()
        updated = pattern.sub(lambda m: f'"{m.group(1)}{sibling_range(new)}"', text)
        if updated != text:
            pyproject.write_text(updated)
            print(f"{other.name}: now requires {dist.name}{sibling_range(new)}")
    if relock:
        subprocess.run(["uv", "lock"], cwd=ws.root, check=True)
    print(f"{dist.name}: {old} -> {new}; tag it {dist.name}-v{new} once merged")
    return new


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("distribution")
    parser.add_argument("part", help="major, minor, patch, or an explicit version")
    parser.add_argument("--root", type=Path, default=ROOT)
    parser.add_argument("--no-lock", action="store_true", help="do not run `uv lock` afterwards")
    args = parser.parse_args(argv)
    bump(Workspace(args.root.resolve()), args.distribution, args.part, relock=not args.no_lock)
    return 0


if __name__ == "__main__":
    sys.exit(main())
