"""Enforce the import graph of docs/architecture.md.

Two checks:

1. import-linter's contracts (``.importlinter``), run in a throwaway environment that holds
   import-linter and the sources of every distribution *except the umbrella*. Without
   ``flyte/__init__.py`` on the path, ``flyte`` is a plain PEP 420 namespace and each piece is
   analysed as its own root package; the umbrella's lazy ``__init__`` would otherwise hide the
   split from the graph builder.
2. Packaging agrees with the contracts: no pyproject declares a sibling that a contract forbids
   its modules to import.

Usage: ``uv run python -m tools.check_graph [--root PATH]``. Exit status 1 on a violation.
"""

from __future__ import annotations

import argparse
import configparser
import os
import subprocess
import sys
from pathlib import Path

from tools.workspace import ROOT, UMBRELLA, Workspace

IMPORT_LINTER = "import-linter==2.17"


def _lines(value: str) -> list[str]:
    return [v.strip() for v in value.splitlines() if v.strip()]


def forbidden_edges(config: Path) -> list[tuple[str, list[str], list[str]]]:
    """(contract name, source modules, forbidden modules) of each ``forbidden`` contract."""
    parser = configparser.ConfigParser()
    parser.read(config)
    edges = []
    for section in parser.sections():
        c = parser[section]
        if section.startswith("importlinter:contract:") and c.get("type") == "forbidden":
            edges.append((c["name"], _lines(c["source_modules"]), _lines(c["forbidden_modules"])))
    return edges


def packaging_problems(ws: Workspace, config: Path) -> list[str]:
    problems = []
    for name, sources, forbidden in forbidden_edges(config):
        for dist in ws:
            if not set(dist.portions) & set(sources):
                continue
            for dep in sorted(ws.sibling_deps(dist)):
                clash = [m for m in ws[dep].portions if any(m == f or m.startswith(f + ".") for f in forbidden)]
                if clash:
                    problems.append(
                        f"{dist.path.relative_to(ws.root)}/pyproject.toml declares {dep}, "
                        f"but contract {name!r} forbids importing {', '.join(clash)}"
                    )
    return problems


def run_import_linter(ws: Workspace, config: Path) -> int:
    src_dirs = [str(d.src) for d in ws if d.name != UMBRELLA]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(src_dirs)}
    cmd = ["uv", "run", "--isolated", "--no-project", "--with", IMPORT_LINTER]
    cmd += ["lint-imports", str(config), "--no-cache"]
    return subprocess.run(cmd, cwd=ws.root, env=env, check=False).returncode


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--root", type=Path, default=ROOT, help="checkout to check (default: this one)")
    args = parser.parse_args(argv)
    ws = Workspace(args.root.resolve())
    config = ws.root / ".importlinter"
    problems = packaging_problems(ws, config)
    for p in problems:
        print(p)
    status = run_import_linter(ws, config)
    return 1 if problems or status else 0


if __name__ == "__main__":
    sys.exit(main())
