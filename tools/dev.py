#!/usr/bin/env python3
"""One entry point for working on the workspace, runnable with nothing but Python installed.

    python3 tools/dev.py flyte run --local examples/hello.py main   # the `flyte` CLI of the workspace
    python3 tools/dev.py test                  # set up the workspace and run every test
    python3 tools/dev.py test -p flyte-models  # one distribution alone, in its own environment
    python3 tools/dev.py test --each           # every distribution alone, one after another
    python3 tools/dev.py lint                  # ruff (lint + format check) and mypy --strict per distribution
    python3 tools/dev.py graph                 # declared dependencies and the import-linter contracts
    python3 tools/dev.py wheels                # build every wheel, check them, install them in isolation
    python3 tools/dev.py check                 # lint, graph and wheels: what CI runs besides the tests

uv is found on PATH, or installed once into ``~/.cache/flyte-dev/uv`` (a private venv, so a
system Python that refuses ``pip install`` is not touched). Extra arguments after ``--`` go to
pytest. This file uses the standard library only: it runs before any dependency is installed.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BOOTSTRAP = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "flyte-dev" / "uv"


def uv() -> str:
    found = shutil.which("uv")
    if found:
        return found
    exe = BOOTSTRAP / "bin" / "uv"
    if not exe.exists():
        print(f"uv not found on PATH; installing it into {BOOTSTRAP}", flush=True)
        subprocess.run([sys.executable, "-m", "venv", str(BOOTSTRAP)], check=True)
        subprocess.run([str(BOOTSTRAP / "bin" / "python"), "-m", "pip", "install", "--quiet", "uv"], check=True)
    return str(exe)


def run(*cmd: str, env: dict[str, str] | None = None) -> None:
    print("+", " ".join(cmd), flush=True)
    result = subprocess.run(cmd, cwd=ROOT, env={**os.environ, **(env or {})}, check=False)
    if result.returncode != 0:
        raise SystemExit(result.returncode)


def sync() -> None:
    run(uv(), "sync", "--all-packages", "--locked", "--quiet")


def distributions() -> dict[str, Path]:
    found = {}
    for pyproject in sorted([*ROOT.glob("packages/*/pyproject.toml"), *ROOT.glob("plugins/*/pyproject.toml")]):
        # The first `name = ...` of a distribution's pyproject is its [project] name (tomllib is 3.11+).
        match = re.search(r'^name = "([^"]+)"', pyproject.read_text(), re.M)
        if match:
            found[match.group(1)] = pyproject.parent
    return found


def cmd_test(args: argparse.Namespace) -> None:
    """set up the workspace and run the tests"""
    if args.each:
        for name in distributions():
            started = time.perf_counter()
            cmd_test(argparse.Namespace(package=name, each=False, pytest=["-q", *args.pytest]))
            print(f"== {name} alone passed in {time.perf_counter() - started:.0f}s", flush=True)
        return
    if args.package:
        path = distributions().get(args.package)
        if path is None:
            raise SystemExit(f"unknown distribution {args.package!r}; known: {', '.join(distributions())}")
        # A private environment per distribution: only it, its dependencies and its dev group,
        # so an undeclared dependency fails here instead of being masked by a sibling's.
        env = {"UV_PROJECT_ENVIRONMENT": str(ROOT / ".venvs" / args.package)}
        rel = path.relative_to(ROOT)
        run(
            uv(),
            "run",
            "--locked",
            "--exact",
            "--package",
            args.package,
            "pytest",
            f"{rel}/tests",
            *args.pytest,
            env=env,
        )
        return
    sync()
    run(uv(), "run", "--all-packages", "--locked", "pytest", *args.pytest)


def cmd_lint(_: argparse.Namespace) -> None:
    """ruff lint and format check, mypy --strict per distribution"""
    sync()
    run(uv(), "run", "ruff", "check", ".")
    run(uv(), "run", "ruff", "format", "--check", ".")
    for name, path in distributions().items():
        src = path / "src"
        packages = [f"{ns.name}.{p.name}" for ns in src.iterdir() for p in ns.iterdir() if (p / "__init__.py").exists()]
        if name == "flyte":
            packages = ["flyte"]
        run(uv(), "run", "mypy", *[a for p in packages for a in ("-p", p)])


def cmd_graph(_: argparse.Namespace) -> None:
    """declared dependencies match imports; import-linter contracts hold"""
    sync()
    run(uv(), "run", "python", "-m", "tools.check_deps")
    run(uv(), "run", "python", "-m", "tools.check_graph")


def cmd_wheels(_: argparse.Namespace) -> None:
    """build and check every wheel, install them into fresh venvs"""
    sync()
    run(uv(), "run", "python", "-m", "tools.build_wheels")
    run(uv(), "run", "python", "-m", "tools.check_isolation")


def cmd_check(args: argparse.Namespace) -> None:
    """lint, graph and wheels: what CI runs besides the tests"""
    for name in ("lint", "graph", "wheels"):
        started = time.perf_counter()
        COMMANDS[name](args)
        print(f"== {name} passed in {time.perf_counter() - started:.0f}s", flush=True)


COMMANDS = {"test": cmd_test, "lint": cmd_lint, "graph": cmd_graph, "wheels": cmd_wheels, "check": cmd_check}


def main() -> None:
    argv = sys.argv[1:]
    if argv[:1] == ["flyte"]:
        # Everything after `flyte` goes to the workspace's own `flyte` command, unparsed.
        sync()
        run(uv(), "run", "--all-packages", "--locked", "flyte", *argv[1:])
        return
    pytest_args: list[str] = []
    if "--" in argv:
        cut = argv.index("--")
        argv, pytest_args = argv[:cut], argv[cut + 1 :]
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    for name, func in COMMANDS.items():
        command = sub.add_parser(name, help=func.__doc__)
        if name == "test":
            command.add_argument("-p", "--package", help="test one distribution alone, in its own environment")
            command.add_argument("--each", action="store_true", help="test every distribution alone, in turn")
    args = parser.parse_args(argv)
    args.pytest = pytest_args
    COMMANDS[args.command](args)


if __name__ == "__main__":
    main()
