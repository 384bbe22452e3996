"""Side-by-side benchmark of this SDK and the public flyte 2.12.1, on the shared anchor workloads.

Both SDKs are measured by the same scripts (``shared/bench-anchor/bench_*.py``), each in its own
venv, interleaved round by round (ours, public, ours, public, ...) so that the noise of a busy
2-core machine hits both alike. Ours is installed from the wheels in ``dist/`` into a fresh,
non-editable venv, as a user would get it; the public SDK from the package index.

    uv run python -m tools.bench.anchor                        # 3 rounds of import, cli_run, local_run, memory
    uv run python -m tools.bench.anchor --rounds 5 --benches local_run

Prints a markdown table (median of the per-round medians, and ours / public) and writes the raw
JSON lines under ``tools/bench/results/<timestamp>/``.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from tools.public_flyte import public_python
from tools.workspace import ROOT

ANCHOR = ROOT.parent / "shared" / "bench-anchor"
CACHE = Path.home() / ".cache" / "flyte-dev"
OURS_WORKDIR = CACHE / "ours-bench"
OURS_VENV = OURS_WORKDIR / "venv-flyte"
BENCHES = ("import", "cli_run", "local_run", "memory")

# (label, bench, path into a result's "results")
METRICS: list[tuple[str, str, tuple[str, ...]]] = [
    ("`python -c 'import flyte'` wall (s)", "import", ("wall_import_flyte_s", "median")),
    ("`import flyte.remote` wall (s)", "import", ("wall_import_flyte_remote_s", "median")),
    ("`flyte --help` wall (s)", "import", ("wall_flyte_help_s", "median")),
    ("modules added by `import flyte`", "import", ("sys_modules_added_by_import_flyte",)),
    ("`flyte run --local hello.py main` (s)", "cli_run", ("cli_run_local_s", "median")),
    ("`python hello.py` (flyte.run) (s)", "cli_run", ("api_script_s", "median")),
    (
        "async parent, gather 1,000 async children (tasks/s)",
        "local_run",
        ("async_gather", "n=1000", "tasks_per_s"),
    ),
    (
        "sync parent, 1,000 sync children in a loop (tasks/s)",
        "local_run",
        ("sync_loop", "n=1000", "tasks_per_s"),
    ),
    (
        "async parent, gather 1,000 sync children via .aio (tasks/s)",
        "local_run",
        ("async_gather_sync_child", "n=1000", "tasks_per_s"),
    ),
    ("peak RSS, 1,000-child run (MiB)", "memory", ("n=1000", "peak_rss_mb", "median")),
]


def sh(cmd: list[str], **kwargs: Any) -> None:
    subprocess.run(cmd, check=True, **kwargs)


def build_ours() -> Path:
    """A fresh venv with our wheels (built now) installed the way a user installs them."""
    from tools import build_wheels, check_isolation
    from tools.workspace import Workspace

    dist = ROOT / "dist"
    build_wheels.build(Workspace(ROOT), dist)
    if OURS_VENV.exists():
        sh(["rm", "-rf", str(OURS_VENV)])
    OURS_WORKDIR.mkdir(parents=True, exist_ok=True)
    python, _ = check_isolation.install("flyte", build_wheels.wheels_by_dist(dist), OURS_WORKDIR)
    return python


def run_bench(python: Path, bench: str, out: Path) -> dict[str, Any]:
    script = ANCHOR / f"bench_{bench}.py"
    env_cli = str(python.parent / "flyte")
    proc = subprocess.run(
        [str(python), str(script)],
        capture_output=True,
        text=True,
        env={"FLYTE_CLI": env_cli, "PATH": f"{python.parent}:/usr/bin:/bin", "HOME": str(Path.home())},
        check=False,
    )
    lines = [x for x in proc.stdout.splitlines() if x.strip().startswith("{")]
    if proc.returncode != 0 or not lines:
        raise SystemExit(f"bench_{bench}.py failed with {python}:\n{proc.stderr[-2000:]}")
    out.parent.mkdir(parents=True, exist_ok=True)
    with out.open("a") as f:
        f.write(lines[-1] + "\n")
    return dict(json.loads(lines[-1]))


def dig(obj: Any, path: tuple[str, ...]) -> float | None:
    for key in path:
        if not isinstance(obj, dict) or key not in obj:
            return None
        obj = obj[key]
    return float(obj) if isinstance(obj, (int, float)) else None


def table(results: dict[str, dict[str, list[dict[str, Any]]]]) -> str:
    rows = ["| workload | ours | flyte 2.12.1 | ours / 2.12.1 |", "|---|---:|---:|---:|"]
    for label, bench, path in METRICS:
        medians: dict[str, float | None] = {}
        for side in ("ours", "public"):
            values = [v for r in results[side].get(bench, []) if (v := dig(r["results"], path)) is not None]
            medians[side] = statistics.median(values) if values else None
        ours, public = medians["ours"], medians["public"]
        if ours is None or public is None:
            continue
        ratio = ours / public if public else float("nan")
        rows.append(f"| {label} | {_number(ours)} | {_number(public)} | {ratio:.2f}x |")
    return "\n".join(rows)


def _number(value: float) -> str:
    return f"{value:,.0f}" if value >= 100 else f"{value:.3f}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--benches", nargs="*", default=list(BENCHES), choices=BENCHES)
    parser.add_argument("--reuse-ours", action="store_true", help="keep the existing venv of our wheels")
    args = parser.parse_args(argv)
    if not ANCHOR.is_dir():
        raise SystemExit(f"the anchor harness is not at {ANCHOR}")
    public = public_python()
    ours = OURS_VENV / "bin" / "python" if args.reuse_ours and OURS_VENV.exists() else build_ours()
    stamp = time.strftime("%Y%m%d-%H%M%S")
    out = ROOT / "tools" / "bench" / "results" / stamp
    results: dict[str, dict[str, list[dict[str, Any]]]] = {"ours": {}, "public": {}}
    for bench in args.benches:
        for round_ in range(args.rounds):
            for side, python in (("ours", ours), ("public", public)):
                print(f"== {bench} round {round_ + 1}/{args.rounds}: {side}", file=sys.stderr, flush=True)
                result = run_bench(python, bench, out / side / f"{bench}.jsonl")
                results[side].setdefault(bench, []).append(result)
    print(table(results))
    print(f"\nraw results: {out.relative_to(ROOT)}; {args.rounds} interleaved rounds; medians of per-round medians")
    return 0


if __name__ == "__main__":
    sys.exit(main())
