"""TypeEngine throughput, ours vs the public flyte 2.12.1, same workload, same run.

    uv run python -m tools.bench.bench_types [--reps 3] [--scale 1.0] [--cases list_int,...]
        [--public-python PATH]

The workload (the one of ../shared/bench-anchor/bench_typeengine.py) runs in a fresh worker
process per SDK: this interpreter for ours, the public venv's for flyte 2.12.1 (by default the
shared one of ``tools/public_flyte.py``, created on first use).

The ``dataframe`` case (pandas 1,000,000 x 4: int64, float64, str, bool) converts the frame as
``pandas.DataFrame`` (encode = write parquet, decode = read it) and as ``flyte.io.DataFrame``
(decode is lazy: ``open(pd.DataFrame).all()`` is timed as ``materialize``), with the raw data path
on local disk. flyte 2.12.1 converts frames only inside a task (outside one it tries to upload to
a backend), so its worker runs the case inside a local ``flyte.run``; ours sets the raw data path
with ``flyte.io.use_raw_data_path``. The same worker also times writing and reading the same
parquet with pyarrow directly (``pq.write_table(pa.Table.from_pandas(df))``,
``pq.read_table(path).to_pandas()``), the floor that the target is measured against.
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
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

CASES = ("list_int", "dict_str_float", "dataclass_list", "pydantic", "dataframe")
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


def _frame(rows: int) -> Any:
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(0)
    return pd.DataFrame(
        {
            "i": np.arange(rows, dtype="int64"),
            "f": rng.random(rows),
            "s": np.char.add("row", np.arange(rows).astype(str)).astype(object),
            "b": (np.arange(rows) % 2) == 0,
        }
    )


def _timed(timings: dict[str, list[float]], key: str, fn: Any) -> Any:
    gc.collect()
    t0 = time.perf_counter()
    out = fn()
    timings.setdefault(key, []).append(time.perf_counter() - t0)
    return out


async def _atimed(timings: dict[str, list[float]], key: str, coro: Any) -> Any:
    gc.collect()
    t0 = time.perf_counter()
    out = await coro
    timings.setdefault(key, []).append(time.perf_counter() - t0)
    return out


async def _dataframe_rep(out: dict[str, list[float]], df: Any, path: str, rep: int) -> None:
    """One rep: write the frame three ways (pd.DataFrame, flyte.io.DataFrame, pyarrow), read it back."""
    import pandas as pd
    import pyarrow as pa
    import pyarrow.parquet as pq

    import flyte.io
    from flyte.types import TypeEngine

    pd_lt, fdf_lt = TypeEngine.to_literal_type(pd.DataFrame), TypeEngine.to_literal_type(flyte.io.DataFrame)
    fdf = flyte.io.DataFrame.from_df(df)
    lits: dict[str, Any] = {}

    async def pd_write() -> None:
        lits["pd"] = await _atimed(out, "pd_to_literal_s", TypeEngine.to_literal(df, pd.DataFrame, pd_lt))

    async def fdf_write() -> None:
        lits["fdf"] = await _atimed(out, "fdf_to_literal_s", TypeEngine.to_literal(fdf, flyte.io.DataFrame, fdf_lt))

    async def direct_write() -> None:
        _timed(out, "pyarrow_write_s", lambda: pq.write_table(pa.Table.from_pandas(df), path))

    async def pd_read() -> Any:
        return await _atimed(out, "pd_to_python_s", TypeEngine.to_python_value(lits["pd"], pd.DataFrame))

    async def fdf_read() -> Any:
        handle = await _atimed(out, "fdf_to_python_s", TypeEngine.to_python_value(lits["fdf"], flyte.io.DataFrame))
        return await _atimed(out, "fdf_materialize_s", handle.open(pd.DataFrame).all())

    async def direct_read() -> Any:
        return _timed(out, "pyarrow_read_s", lambda: pq.read_table(path).to_pandas())

    # Rotate the order every rep: on this machine the first big allocation after the previous
    # frames were freed is the slowest, and no contender should always be the one to pay for it.
    writes, reads = [pd_write, fdf_write, direct_write], [pd_read, fdf_read, direct_read]
    k = rep % 3
    for write in writes[k:] + writes[:k]:
        await write()
    for read in reads[k:] + reads[:k]:
        back = await read()
        if not back.equals(df):
            raise AssertionError(f"dataframe: {read.__name__} changed the frame")
        del back


async def _dataframe_reps(rows: int, reps: int, scratch: str) -> dict[str, Any]:
    """The timed body of the dataframe case; the caller has set a local raw data path."""
    df = _frame(rows)
    out: dict[str, list[float]] = {}
    for rep in range(reps):
        await _dataframe_rep(out, df, os.path.join(scratch, f"direct-{rep}.parquet"), rep)
    return {**out, "rows": rows}


async def _dataframe_case(reps: int, scale: float) -> dict[str, Any]:
    import tempfile

    rows = int(1_000_000 * scale)
    with tempfile.TemporaryDirectory(prefix="bench-df-") as scratch:
        try:
            from flyte.io import use_raw_data_path  # ours
        except ImportError:  # flyte 2.12.1: only inside a task
            return _public_dataframe_case(rows, reps, scratch)
        with use_raw_data_path(os.path.join(scratch, "raw")):
            return await _dataframe_reps(rows, reps, scratch)


def _public_dataframe_case(rows: int, reps: int, scratch: str) -> dict[str, Any]:
    import flyte

    env = flyte.TaskEnvironment(name="bench_types_dataframe")

    @env.task
    async def dataframe_bench(rows: int, reps: int, scratch: str) -> str:
        return json.dumps(await _dataframe_reps(rows, reps, scratch))

    flyte.init()
    run = flyte.run(dataframe_bench, rows=rows, reps=reps, scratch=scratch)
    outputs = run.outputs()
    return json.loads(outputs[0] if isinstance(outputs, tuple) else outputs.o0)  # type: ignore[no-any-return]


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
            out = {
                c: asyncio.run(
                    _dataframe_case(args.reps, args.scale) if c == "dataframe" else _run_case(c, args.reps, args.scale)
                )
                for c in args.cases.split(",")
            }
    print(json.dumps(out))


# --- driver ---------------------------------------------------------------------------------


def _spawn(python: str, *extra: str) -> Any:
    cmd = [python, str(Path(__file__).resolve()), "--worker", *extra]
    done = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"worker {python} failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


_FRAME_LIBS = ("pandas", "pyarrow", "numpy")


def _frame_lib_versions(python: str) -> list[str]:
    code = f"import importlib.metadata as m; print(' '.join(m.version(p) for p in {_FRAME_LIBS!r}))"
    done = subprocess.run([python, "-c", code], capture_output=True, text=True, check=False)
    return done.stdout.split() if done.returncode == 0 else []


def _public_python_for_frames(public: str) -> str:
    """flyte 2.12.1 with *our* pandas, pyarrow and numpy versions, for the dataframe case.

    Frame conversion time is mostly pandas <-> arrow; pandas 3 (what the shared public venv
    resolves) keeps strings in arrow while pandas 2 (what the workspace pins, for pyspark) makes
    Python objects of them, which alone changes the timing severalfold. A sibling venv with the
    same versions compares the SDKs, not the pandas releases. Built once, cached.
    """
    from tools.public_flyte import CACHE, PUBLIC_VERSION

    ours = _frame_lib_versions(sys.executable)
    if not ours or _frame_lib_versions(public) == ours:
        return public
    venv = CACHE / f"flyte-public-{PUBLIC_VERSION}-frames-{'-'.join(ours)}"
    python = venv / "bin" / "python"
    if not (venv / ".complete").exists():
        print(f"building {venv} (flyte {PUBLIC_VERSION} with our frame libraries)", file=sys.stderr)
        subprocess.run([sys.executable, "-m", "venv", "--clear", str(venv)], check=True, capture_output=True)
        pins = [f"{lib}=={v}" for lib, v in zip(_FRAME_LIBS, ours, strict=True)]
        pip = [str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
        subprocess.run([*pip, f"flyte=={PUBLIC_VERSION}", *pins], check=True, capture_output=True)
        (venv / ".complete").write_text(" ".join(pins))
    return str(python)


def _median(xs: list[float]) -> float:
    return statistics.median(xs)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--scale", type=float, default=1.0)
    ap.add_argument("--cases", default=",".join(CASES))
    ap.add_argument("--public-python", default=None, help="default: the venv of tools/public_flyte.py")
    ap.add_argument(
        "--frames-public-python",
        default=None,
        help="flyte 2.12.1 interpreter for the dataframe case; default: one with our pandas/pyarrow/numpy versions",
    )
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
    cases = args.cases.split(",")
    plain = ",".join(c for c in cases if c != "dataframe")
    results: dict[str, Any] = {"ours": _spawn(sys.executable, *common), "public": {}}
    if plain:
        results["public"] = _spawn(args.public_python, *common[:-1], plain)
    if "dataframe" in cases:
        frames_python = args.frames_public_python or _public_python_for_frames(args.public_python)
        results["public"].update(_spawn(frames_python, *common[:-1], "dataframe"))
        results["frame_libs"] = {
            "ours": _frame_lib_versions(sys.executable),
            "public": _frame_lib_versions(frames_python),
        }
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
    if plain:
        print("| case | direction | flyte 2.12.1 | ours | speed-up | target |")
        print("|---|---|---:|---:|---:|---:|")
    sizes = {"n1m": int(1_000_000 * args.scale), "n100k": int(100_000 * args.scale), "n10k": int(10_000 * args.scale)}
    for case in args.cases.split(","):
        if case == "dataframe":
            continue
        for key, label in (("to_literal_s", "to_literal"), ("to_python_s", "to_python_value")):
            pub, our = _median(results["public"][case][key]), _median(results["ours"][case][key])
            print(
                f"| {LABELS.get(case, case).format(**sizes)} | {label} | {pub:.3f} | {our:.4f} | {pub / our:.1f}x | "
                f">= {TARGETS.get(case, '-')}x |"
            )
    if "dataframe" in args.cases.split(","):
        _print_dataframe(results, sizes["n1m"])
        libs = dict(zip(_FRAME_LIBS, results["frame_libs"]["public"], strict=False))
        print(f"\n(both sides on {', '.join(f'{k} {v}' for k, v in libs.items())})")
    if memory:
        print(
            f"\nlist[int] x {int(1_000_000 * args.scale):,} round trip, peak RSS of a fresh process: "
            f"ours {memory['ours']['peak_rss_mb']:.0f} MB (+{memory['ours']['growth_mb']:.0f} MB during the case), "
            f"flyte 2.12.1 {memory['public']['peak_rss_mb']:.0f} MB (+{memory['public']['growth_mb']:.0f} MB)"
        )


def _print_dataframe(results: dict[str, Any], rows: int) -> None:
    pub, our = results["public"]["dataframe"], results["ours"]["dataframe"]

    def med(side: dict[str, Any], *keys: str) -> float:
        return sum(_median(side[k]) for k in keys)

    print(f"\npandas DataFrame {rows:,} x 4 (int64, float64, str, bool), parquet on local disk; seconds")
    print("target: no slower than flyte 2.12.1, and within 1.3x of pyarrow directly\n")
    print("| type | direction | flyte 2.12.1 | ours | speed-up | pyarrow directly | ours / pyarrow |")
    print("|---|---|---:|---:|---:|---:|---:|")
    rows_spec = (
        ("pd.DataFrame", "to_literal (write)", ("pd_to_literal_s",), "pyarrow_write_s"),
        ("pd.DataFrame", "to_python_value (read)", ("pd_to_python_s",), "pyarrow_read_s"),
        ("flyte.io.DataFrame", "to_literal (write)", ("fdf_to_literal_s",), "pyarrow_write_s"),
        ("flyte.io.DataFrame", "to_python_value (lazy)", ("fdf_to_python_s",), None),
        ("flyte.io.DataFrame", "open(pd.DataFrame).all()", ("fdf_materialize_s",), "pyarrow_read_s"),
        ("flyte.io.DataFrame", "to_python_value + all()", ("fdf_to_python_s", "fdf_materialize_s"), "pyarrow_read_s"),
    )
    for label, direction, keys, direct_key in rows_spec:
        p, o = med(pub, *keys), med(our, *keys)
        direct = f"{_median(our[direct_key]):.3f}" if direct_key else "-"
        ratio = f"{o / _median(our[direct_key]):.2f}x" if direct_key else "-"
        print(f"| {label} | {direction} | {p:.3f} | {o:.3f} | {p / o:.1f}x | {direct} | {ratio} |")


if __name__ == "__main__":
    main()
