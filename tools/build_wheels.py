"""Build every wheel with ``uv build --all-packages --no-sources`` and check what they hold.

``--no-sources`` builds each distribution as it will be published: sibling dependencies are the
version ranges in its pyproject, never workspace paths. The checks then enforce the packaging
rules of docs/architecture.md:

- one wheel per distribution, all of them present;
- no file path in two wheels (a shared path silently wins or vanishes on uninstall);
- only the umbrella ships ``flyte/__init__.py``; nobody ships ``flyteplugins/__init__.py``;
- every package a wheel ships under a namespace has its own ``py.typed``;
- every dependency on a sibling has an upper bound, so a resolver can never reach for the
  public distributions that share our names.

Usage: ``uv run python -m tools.build_wheels [--out dist] [--skip-build]``.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import zipfile
from collections import defaultdict
from email.parser import Parser
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name, parse_wheel_filename

from tools.workspace import NAMESPACES, ROOT, UMBRELLA, Workspace


def build(ws: Workspace, out: Path) -> None:
    if out.exists():
        shutil.rmtree(out)
    cmd = ["uv", "build", "--all-packages", "--no-sources", "--wheel", "--out-dir", str(out)]
    subprocess.run(cmd, cwd=ws.root, check=True)


def wheels_by_dist(out: Path) -> dict[str, Path]:
    return {canonicalize_name(parse_wheel_filename(w.name)[0]): w for w in sorted(out.glob("*.whl"))}


def _payload(wheel: Path) -> list[str]:
    with zipfile.ZipFile(wheel) as zf:
        return [n for n in zf.namelist() if not n.split("/", 1)[0].endswith(".dist-info")]


def _metadata(wheel: Path) -> list[Requirement]:
    with zipfile.ZipFile(wheel) as zf:
        meta = next(n for n in zf.namelist() if n.endswith(".dist-info/METADATA"))
        msg = Parser().parsestr(zf.read(meta).decode())
    return [Requirement(r) for r in msg.get_all("Requires-Dist") or []]


def check(ws: Workspace, out: Path) -> list[str]:
    problems: list[str] = []
    wheels = wheels_by_dist(out)
    for missing in sorted(set(ws.dists) - set(wheels)):
        problems.append(f"no wheel for {missing} in {out}")
    owners: dict[str, list[str]] = defaultdict(list)
    for dist, wheel in wheels.items():
        files = _payload(wheel)
        for f in files:
            owners[f].append(wheel.name)
        if "flyte/__init__.py" in files and dist != UMBRELLA:
            problems.append(f"{wheel.name} ships flyte/__init__.py; only the umbrella ({UMBRELLA}) may")
        if "flyteplugins/__init__.py" in files:
            problems.append(f"{wheel.name} ships flyteplugins/__init__.py; flyteplugins must stay a namespace")
        packages = {f.rsplit("/", 1)[0] for f in files if f.endswith("/__init__.py")}
        for pkg in sorted(packages):
            top = pkg.split("/")
            if top[0] in NAMESPACES and len(top) <= 2 and f"{pkg}/py.typed" not in files:
                problems.append(f"{wheel.name}: {pkg}/ has no py.typed")
        for req in _metadata(wheel):
            name = canonicalize_name(req.name)
            if name in ws.dists:
                if req.url:
                    problems.append(f"{wheel.name} depends on {name} by URL ({req.url}); publish a version range")
                elif not any(s.operator in ("<", "<=", "==", "~=") for s in req.specifier):
                    problems.append(f"{wheel.name} depends on {name}{req.specifier or ''} with no upper bound")
    for path, holders in sorted(owners.items()):
        if len(holders) > 1:
            problems.append(f"{path} is in {len(holders)} wheels: {', '.join(holders)}")
    return problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--root", type=Path, default=ROOT, help="checkout to build (default: this one)")
    parser.add_argument("--out", type=Path, default=None, help="output folder (default: <root>/dist)")
    parser.add_argument("--skip-build", action="store_true", help="only check the wheels already in --out")
    args = parser.parse_args(argv)
    ws = Workspace(args.root.resolve())
    out = (args.out or ws.root / "dist").resolve()
    if not args.skip_build:
        build(ws, out)
    problems = check(ws, out)
    for p in problems:
        print(p)
    wheels = wheels_by_dist(out)
    print(f"{len(wheels)} wheels in {out}: {len(problems)} problem(s)")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
