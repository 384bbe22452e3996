"""Runs on the embedded server as a user sees them: ``flyte.run(...)`` then ``run.wait()``.

    uv run --all-packages python -m tools.bench.bench_server                     # process executor
    uv run --all-packages python -m tools.bench.bench_server --executor warm --children 1000
    uv run --all-packages python -m tools.bench.bench_server --sdk ours --trivial-runs 20 --rounds 3

Cases, each round on a fresh server (``flyte.server.serve`` in its own process, a free loopback
port, its own data dir, ``--executor`` and ``--max-concurrency`` passed through):

- ``trivial``: ``flyte.run(noop, x=i)`` then ``wait()``, one at a time, ``--trivial-runs`` times
  after a first run that is reported apart (it deploys a new code bundle); the p50 of the rest.
  Each later run deploys too (both SDKs bundle, upload and register before CreateRun) but finds
  the bundle and the task version already there.
- ``fanout``: one parent gathering ``--children`` children (``noop``), each a child action the
  server runs (QueueService.EnqueueAction, StateService.Watch). Reported as children per second
  between the first child's creation and the last child's end (from the server's database), and
  as actions per second of the whole run (submit to done).

``--sdk`` picks whose client and ``a0`` run: ``ours``, ``public`` (flyte 2.12.1 from its own
cached venv, ``tools/public_flyte.py``: its client deploys and runs, and the server starts its
``a0``, so its controller drives the children), or ``both``. The same driver script runs under
either SDK (the API is the same). Rounds alternate the SDKs; the table reports medians over
rounds. Raw JSON lines go to ``tools/bench/results/<UTC time>-server/bench_server.jsonl``.
"""

from __future__ import annotations

import argparse
import json
import os
import sqlite3
import statistics
import subprocess
import textwrap
import time
from pathlib import Path
from typing import Any

from flyte.server.testing import running_server
from tools.bench._rounds import SDK_CHOICES, interleaved_rounds, python_of, sdks_of

MODULE = "benchkids"

TASKS = textwrap.dedent(
    """
    import asyncio

    import flyte

    env = flyte.TaskEnvironment("benchkids")


    @env.task
    async def noop(x: int) -> int:
        return x


    @env.task
    async def fan(n: int) -> int:
        return sum(await asyncio.gather(*(noop(i) for i in range(n))))
    """
)

# Runs under either SDK: `python driver.py URL ROOT CASE COUNT`; prints `BENCH {json}` lines.
DRIVER = textwrap.dedent(
    """
    import json
    import pathlib
    import sys
    import time

    import flyte

    url, root, case, count = sys.argv[1], pathlib.Path(sys.argv[2]), sys.argv[3], int(sys.argv[4])
    sys.path.insert(0, str(root))
    import benchkids as tasks

    flyte.init(endpoint=url, insecure=True, project="bench", domain="development", root_dir=root)


    def report(**values):
        print("BENCH " + json.dumps(values), flush=True)


    if case == "trivial":
        for i in range(count + 1):
            started = time.perf_counter()
            run = flyte.run(tasks.noop, x=i)
            run.wait()
            report(case="trivial", i=i, seconds=time.perf_counter() - started, phase=str(run.phase), run=run.name)
    else:
        started = time.perf_counter()
        run = flyte.run(tasks.fan, n=count)
        run.wait()
        report(case="fanout", n=count, seconds=time.perf_counter() - started, phase=str(run.phase), run=run.name)
    """
)


def drive(python: Path, url: str, root: Path, case: str, count: int, timeout: float) -> list[dict[str, Any]]:
    done = subprocess.run(
        [str(python), str(root / "driver.py"), url, str(root), case, str(count)],
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=root,
    )
    lines = [json.loads(line[6:]) for line in done.stdout.splitlines() if line.startswith("BENCH ")]
    if done.returncode != 0 or not lines:
        raise RuntimeError(f"the {case} driver failed ({done.returncode}): {done.stderr[-3000:]}")
    return lines


def children_window(data: Path, run: str) -> tuple[int, float]:
    """(children, seconds from the first child's creation to the last child's end) of ``run``."""
    with sqlite3.connect(data / "flyte.db") as db:
        row = db.execute(
            "SELECT COUNT(*), MIN(a.created_at), MAX(a.ended_at) FROM actions a JOIN runs r ON r.id = a.run_id "
            "WHERE r.name = ? AND a.parent IS NOT NULL",
            (run,),
        ).fetchone()
    return int(row[0]), float(row[2] - row[1]) if row[0] else 0.0


def server_rss_mib(process: subprocess.Popen[str]) -> float:
    try:
        for line in Path(f"/proc/{process.pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return float("nan")


def one_round(sdk: str, args: argparse.Namespace, work: Path, round_no: int) -> list[dict[str, Any]]:
    python = python_of(sdk)
    a0 = str(python.parent / "a0") if sdk == "public" else None
    root = work / f"{sdk}-{round_no}-project"
    root.mkdir()
    # A fresh bundle per round: flyte 2.12.1 skips uploading a bundle it remembers uploading.
    (root / f"{MODULE}.py").write_text(f"{TASKS}\n# round {round_no} {time.time_ns()}\n")
    (root / "driver.py").write_text(DRIVER)
    data = work / f"{sdk}-{round_no}-data"
    out: list[dict[str, Any]] = []
    base = {"sdk": sdk, "executor": args.executor, "round": round_no, "load": os.getloadavg()[0]}
    with running_server(data, executor=args.executor, max_concurrency=args.max_concurrency, a0_command=a0) as srv:
        url, process = srv.url, srv.process
        if "trivial" in args.cases:
            for line in drive(python, url, root, "trivial", args.trivial_runs, args.timeout):
                out.append({**base, **line})
        if "fanout" in args.cases:
            (line,) = drive(python, url, root, "fanout", args.children, args.timeout)
            n, window = children_window(data, line["run"])
            out.append({**base, **line, "children": n, "children_seconds": window})
        out.append({**base, "case": "server", "peak_rss_mib": server_rss_mib(process)})
    return out


def summarize(rows: list[dict[str, Any]], sdks: list[str], executor: str, children: int) -> str:
    lines = [
        f"| SDK (client + a0) | executor | first run s | trivial p50 s | fan-out {children}: children/s | "
        "fan-out: actions/s submit to done | server peak RSS MiB |",
        "|---|---|---|---|---|---|---|",
    ]
    for sdk in sdks:
        mine = [r for r in rows if r["sdk"] == sdk]
        rounds = sorted({r["round"] for r in mine})
        firsts, p50s, kids, whole, rss = [], [], [], [], []
        for n in rounds:
            trivial = [r for r in mine if r["round"] == n and r["case"] == "trivial"]
            if trivial:
                firsts.append(trivial[0]["seconds"])
                if len(trivial) > 1:
                    p50s.append(statistics.median(r["seconds"] for r in trivial[1:]))
            for r in mine:
                if r["round"] == n and r["case"] == "fanout" and "SUCCEEDED" in r["phase"]:
                    kids.append(r["children"] / r["children_seconds"] if r["children_seconds"] else float("nan"))
                    whole.append((r["n"] + 1) / r["seconds"])
                if r["round"] == n and r["case"] == "server":
                    rss.append(r["peak_rss_mib"])

        def med(values: list[float], fmt: str = "{:.2f}") -> str:
            return fmt.format(statistics.median(values)) if values else "-"

        lines.append(
            f"| {sdk if sdk == 'ours' else 'flyte 2.12.1'} | {executor} | {med(firsts)} | {med(p50s, '{:.3f}')} | "
            f"{med(kids, '{:.1f}')} | {med(whole, '{:.1f}')} | {med(rss, '{:.0f}')} |"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--executor", default="process", help="the server's executor (process, warm, ...)")
    parser.add_argument("--max-concurrency", type=int, default=None, help="the server's slots (default: CPUs)")
    parser.add_argument("--sdk", choices=SDK_CHOICES, default="both")
    parser.add_argument("--cases", default="trivial,fanout")
    parser.add_argument("--trivial-runs", type=int, default=10)
    parser.add_argument("--children", type=int, default=100)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--timeout", type=float, default=1800)
    args = parser.parse_args()
    sdks = sdks_of(args.sdk)
    rows, raw = interleaved_rounds("server", sdks, args.rounds, lambda sdk, work, n: one_round(sdk, args, work, n))
    print(summarize(rows, sdks, args.executor, args.children))
    print(f"raw: {raw}")


if __name__ == "__main__":
    main()
