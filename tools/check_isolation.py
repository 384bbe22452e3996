"""Install wheels from ``dist/`` into fresh venvs, import them with ``python -I``, report closures.

Scenarios: flyte-remote alone, flyte-extend alone, each plugin alone, and the umbrella ``flyte``
(everything). For each it prints how many distributions the install pulled and how many MB the
venv's site-packages hold, and it fails when:

- flyte-remote's closure holds flyte-runtime, flyte-cli, flyte-imagebuild, flyte-server, click
  or docker (it must install and work alone);
- a plugin pulls a flyte distribution other than flyte-extend and what flyte-extend needs;
- any of our distributions came from the package index instead of ``dist/``. The public SDK owns
  the names ``flyte`` and ``flyteplugins-*`` there, so every install passes our wheels as
  ``name @ file://...`` constraints: a plugin installed with the index in reach must still be ours.

Usage: ``uv run python -m tools.check_isolation [--dist dist] [--only NAME ...]`` after
``python -m tools.build_wheels``.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from packaging.utils import canonicalize_name

from tools.build_wheels import wheels_by_dist
from tools.workspace import ROOT, UMBRELLA, Workspace

FORBIDDEN_IN_REMOTE = {"flyte-runtime", "flyte-cli", "flyte-imagebuild", "flyte-server", "click", "docker"}


@dataclass
class Closure:
    target: str
    installed: dict[str, str]  # canonical name -> version
    megabytes: float
    seconds: float


def _site_packages(venv: Path) -> Path:
    return next(venv.glob("lib/python*/site-packages"))


def _size_mb(path: Path) -> float:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file() and not f.is_symlink()) / 1e6


def install(target: str, wheels: dict[str, Path], workdir: Path) -> tuple[Path, Closure]:
    venv = workdir / f"venv-{target}"
    subprocess.run(["uv", "venv", "--quiet", "--python", sys.executable, str(venv)], check=True)
    python = venv / "bin" / "python"
    constraints = workdir / "ours.txt"
    constraints.write_text("".join(f"{name} @ {w.as_uri()}\n" for name, w in sorted(wheels.items())))
    started = time.perf_counter()
    cmd = ["uv", "pip", "install", "--quiet", "--python", str(python), "--constraint", str(constraints)]
    subprocess.run([*cmd, str(wheels[target])], check=True)
    seconds = time.perf_counter() - started
    listed = subprocess.run(
        ["uv", "pip", "list", "--python", str(python), "--format", "json"], check=True, capture_output=True, text=True
    )
    installed = {canonicalize_name(p["name"]): p["version"] for p in json.loads(listed.stdout)}
    return python, Closure(target, installed, _size_mb(_site_packages(venv)), seconds)


def import_check(python: Path, modules: list[str]) -> str | None:
    code = "import importlib, sys\nfor m in sys.argv[1:]: importlib.import_module(m)"
    result = subprocess.run([str(python), "-I", "-c", code, *modules], capture_output=True, text=True, check=False)
    return None if result.returncode == 0 else result.stderr.strip().splitlines()[-1]


def problems_of(ws: Workspace, closure: Closure, wheels: dict[str, Path]) -> list[str]:
    problems = []
    ours = {n: v for n, v in closure.installed.items() if n in ws.dists}
    for name, version in sorted(ours.items()):
        expected = ws[name].version
        if version != expected:
            problems.append(f"{closure.target}: installed {name} {version}, not ours ({expected}) from {wheels[name]}")
    if closure.target == "flyte-remote":
        for bad in sorted(FORBIDDEN_IN_REMOTE & set(closure.installed)):
            problems.append(f"flyte-remote must install alone, but its closure holds {bad}")
    if ws[closure.target].is_plugin:
        allowed = ws.closure("flyte-extend") | {closure.target}
        for extra in sorted(set(ours) - allowed):
            problems.append(f"{closure.target} pulls {extra}; a plugin may only depend on flyte-extend")
    return problems


def scenarios(ws: Workspace) -> list[str]:
    return ["flyte-remote", "flyte-extend", *sorted(d.name for d in ws if d.is_plugin), UMBRELLA]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--root", type=Path, default=ROOT, help="checkout (default: this one)")
    parser.add_argument("--dist", type=Path, default=None, help="folder of built wheels (default: <root>/dist)")
    parser.add_argument("--only", nargs="*", default=None, help="scenarios to run (default: all)")
    args = parser.parse_args(argv)
    ws = Workspace(args.root.resolve())
    wheels = wheels_by_dist((args.dist or ws.root / "dist").resolve())
    missing = set(ws.dists) - set(wheels)
    if missing:
        print(f"no wheels for {', '.join(sorted(missing))}; run `uv run python -m tools.build_wheels` first")
        return 1
    problems: list[str] = []
    print(f"{'install':<22}{'distributions':>14}{'flyte dists':>13}{'MB':>9}{'seconds':>9}")
    with tempfile.TemporaryDirectory(prefix="flyte-isolation-") as tmp:
        for target in args.only or scenarios(ws):
            python, closure = install(canonicalize_name(target), wheels, Path(tmp))
            ours = sorted(n for n in closure.installed if n in ws.dists)
            modules = [p for n in ours for p in ws[n].portions]
            error = import_check(python, modules)
            if error:
                problems.append(f"{target}: `python -I` could not import {', '.join(modules)}: {error}")
            problems += problems_of(ws, closure, wheels)
            print(
                f"{target:<22}{len(closure.installed):>14}{len(ours):>13}{closure.megabytes:>9.2f}{closure.seconds:>9.1f}"
            )
            print(f"    ours: {', '.join(ours)}")
    for p in problems:
        print(p)
    print(f"isolation: {len(problems)} problem(s)")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
