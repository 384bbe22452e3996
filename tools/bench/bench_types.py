"""TypeEngine throughput, ours vs the public flyte 2.12.1, same workload, same run.

    uv run python -m tools.bench.bench_types [--reps 3] [--scale 1.0] [--cases list_int,...]
        [--public-python PATH]

The workload (the one of ../shared/bench-anchor/bench_typeengine.py, minus the DataFrame case,
which needs flyte.storage) runs in a fresh worker process per SDK: this interpreter for ours,
the public venv's for flyte 2.12.1 (by default the shared one of ``tools/public_flyte.py``,
created on first use).
Workers use only the public API both SDKs share: ``flyte.types.TypeEngine.to_literal_type``,
``await TypeEngine.to_literal``, ``await TypeEngine.to_python_value``; the round trip is asserted
equal on every rep. Peak memory of the list[int] case is measured in a separate fresh worker
per SDK (``ru_maxrss``: peak resident set of the whole process, and its growth over the process's
state just before the case). Prints a markdown table; ``--json`` prints the raw numbers instead.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import gc
import json
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

CASES = ("list_int", "dict_str_float", "dataclass_list", "pydantic")
TARGETS = {"list_int": 20, "dict_str_float": 10, "dataclass_list": 10, "pydantic": 5}
LABELS = {
    "list_int": "list[int] x {n1m:,}",
    "dict_str_float": "dict[str, float] x {n100k:,}",
    "dataclass_list": "list of {n10k:,} nested dataclasses",
    "pydantic": "pydantic model with {n10k:,} sub-models",
}


# --- worker ---------------------------------------------------------------------------------


def _workload(case: str, scale: float) -> tuple[Any, Any]:
    import pydantic

    @dataclasses.dataclass
    class Inner:
        a: int
        b: str

    @dataclasses.dataclass
    class Item:
        x: int
        y: float
        inner: Inner

    class Sub(pydantic.BaseModel):
        a: int
        b: str
        c: float

    class Top(pydantic.BaseModel):
        name: str
        items: list[Sub]

    # Module-level names so both SDKs can resolve the annotations.
    globals().update(Inner=Inner, Item=Item, Sub=Sub, Top=Top)
    if case == "list_int":
        return list(range(int(1_000_000 * scale))), list[int]
    if case == "dict_str_float":
        return {f"k{i}": i * 0.5 for i in range(int(100_000 * scale))}, dict[str, float]
    if case == "dataclass_list":
        n = int(10_000 * scale)
        return [Item(x=i, y=i * 0.5, inner=Inner(a=i, b=f"s{i}")) for i in range(n)], list[Item]
    if case == "pydantic":
        n = int(10_000 * scale)
        return Top(name="top", items=[Sub(a=i, b=f"s{i}", c=i * 0.5) for i in range(n)]), Top
    raise SystemExit(f"unknown case {case!r}")


async def _run_case(case: str, reps: int, scale: float) -> dict[str, Any]:
    from flyte.types import TypeEngine

    value, t = _workload(case, scale)
    lt = TypeEngine.to_literal_type(t)
    to_lit, to_py = [], []
    size = 0
    for _ in range(reps):
        gc.collect()
        t0 = time.perf_counter()
        lit = await TypeEngine.to_literal(value, t, lt)
        to_lit.append(time.perf_counter() - t0)
        size = len(lit.SerializeToString())
        gc.collect()
        t0 = time.perf_counter()
        back = await TypeEngine.to_python_value(lit, t)
        to_py.append(time.perf_counter() - t0)
        if back != value:
            raise AssertionError(f"{case}: round trip changed the value")
        del lit, back
    return {"to_literal_s": to_lit, "to_python_s": to_py, "literal_bytes": size}


async def _memory_case(scale: float) -> dict[str, Any]:
    from flyte.types import TypeEngine

    value, t = _workload("list_int", scale)
    lt = TypeEngine.to_literal_type(t)
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    lit = await TypeEngine.to_literal(value, t, lt)
    back = await TypeEngine.to_python_value(lit, t)
    assert back == value
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return {"peak_rss_mb": peak / 1024, "growth_mb": (peak - before) / 1024}


def worker(args: argparse.Namespace) -> None:
    import contextlib

    with contextlib.redirect_stdout(sys.stderr):  # keep SDK chatter off the JSON line
        if args.memory:
            out: dict[str, Any] = asyncio.run(_memory_case(args.scale))
        else:
            out = {c: asyncio.run(_run_case(c, args.reps, args.scale)) for c in args.cases.split(",")}
    print(json.dumps(out))


# --- driver ---------------------------------------------------------------------------------


def _spawn(python: str, *extra: str) -> Any:
    cmd = [python, str(Path(__file__).resolve()), "--worker", *extra]
    done = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"worker {python} failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def _median(xs: list[float]) -> float:
    return statistics.median(xs)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--scale", type=float, default=1.0)
    ap.add_argument("--cases", default=",".join(CASES))
    ap.add_argument("--public-python", default=None, help="default: the venv of tools/public_flyte.py")
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--memory", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.worker:
        worker(args)
        return
    if args.public_python is None:
        from tools.public_flyte import public_python

        args.public_python = str(public_python())
    if not Path(args.public_python).exists():
        raise SystemExit(f"no flyte 2.12.1 interpreter at {args.public_python}; see --help")
    common = ["--reps", str(args.reps), "--scale", str(args.scale), "--cases", args.cases]
    results = {"ours": _spawn(sys.executable, *common), "public": _spawn(args.public_python, *common)}
    memory = {}
    if "list_int" in args.cases.split(","):
        memory = {
            "ours": _spawn(sys.executable, "--memory", "--scale", str(args.scale)),
            "public": _spawn(args.public_python, "--memory", "--scale", str(args.scale)),
        }
    if args.json:
        print(json.dumps({"results": results, "memory": memory, "reps": args.reps, "scale": args.scale}))
        return
    print(f"TypeEngine, medians of {args.reps} runs (scale {args.scale}); seconds, lower is better\n")
    print("| case | direction | flyte 2.12.1 | ours | speed-up | target |")
    print("|---|---|---:|---:|---:|---:|")
    sizes = {"n1m": int(1_000_000 * args.scale), "n100k": int(100_000 * args.scale), "n10k": int(10_000 * args.scale)}
    for case in args.cases.split(","):
        for key, label in (("to_literal_s", "to_literal"), ("to_python_s", "to_python_value")):
            pub, our = _median(results["public"][case][key]), _median(results["ours"][case][key])
            print(
                f"| {LABELS.get(case, case).format(**sizes)} | {label} | {pub:.3f} | {our:.4f} | {pub / our:.1f}x | "
                f">= {TARGETS.get(case, '-')}x |"
            )
    if memory:
        print(
            f"\nlist[int] x {int(1_000_000 * args.scale):,} round trip, peak RSS of a fresh process: "
            f"ours {memory['ours']['peak_rss_mb']:.0f} MB (+{memory['ours']['growth_mb']:.0f} MB during the case), "
            f"flyte 2.12.1 {memory['public']['peak_rss_mb']:.0f} MB (+{memory['public']['growth_mb']:.0f} MB)"
        )


if __name__ == "__main__":
    main()
