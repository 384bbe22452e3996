"""Which distributions CI must test: those changed since a git ref, and everything depending on them.

A change outside every distribution (root pyproject, uv.lock, tools/, CI files) can affect all of
them, so it selects the whole workspace.

Usage: ``uv run python -m tools.changed [REF] [--json]``; REF defaults to ``origin/main``.
With ``--json`` it prints a list suitable for a GitHub Actions matrix.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

from tools.workspace import ROOT, Workspace

# Paths whose change cannot affect any distribution's behaviour.
_IRRELEVANT_PREFIXES = ("docs/", ".github/ISSUE_TEMPLATE/")
_IRRELEVANT_SUFFIXES = (".md",)


def changed_files(root: Path, ref: str) -> list[str]:
    result = subprocess.run(
        ["git", "diff", "--name-only", f"{ref}...HEAD"], cwd=root, capture_output=True, text=True, check=False
    )
    if result.returncode != 0:
        raise SystemExit(f"git could not diff against {ref!r}: {result.stderr.strip()}")
    uncommitted = subprocess.run(["git", "diff", "--name-only", "HEAD"], cwd=root, capture_output=True, text=True)
    return sorted({*result.stdout.split(), *uncommitted.stdout.split()})


def selection(ws: Workspace, files: list[str]) -> set[str]:
    touched: set[str] = set()
    for f in files:
        owner = ws.owner_of_path(f)
        if owner is not None:
            touched.add(owner.name)
        elif not (f.startswith(_IRRELEVANT_PREFIXES) or f.endswith(_IRRELEVANT_SUFFIXES)):
            return set(ws.dists)
    return ws.dependents(touched)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("ref", nargs="?", default="origin/main")
    parser.add_argument("--root", type=Path, default=ROOT)
    parser.add_argument("--json", action="store_true", help="print a JSON list for a CI matrix")
    args = parser.parse_args(argv)
    ws = Workspace(args.root.resolve())
    chosen = sorted(selection(ws, changed_files(ws.root, args.ref)))
    if args.json:
        print(json.dumps([{"name": n, "path": ws[n].path.relative_to(ws.root).as_posix()} for n in chosen]))
    else:
        print("\n".join(chosen))
    return 0


if __name__ == "__main__":
    sys.exit(main())
