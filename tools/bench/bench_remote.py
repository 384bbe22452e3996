"""``flyte.remote`` objects against the embedded server, our client side by side with flyte 2.12.1.

    uv run --all-packages python -m tools.bench.bench_remote                 # both SDKs, 3 rounds
    uv run --all-packages python -m tools.bench.bench_remote --sdk ours --runs 5 --rounds 1

Each round starts a fresh server of ours (``python -m flyte.server``, free loopback port, own data
dir; with the public SDK its own ``a0`` runs the actions), deploys one task with the SDK under
test, then one driver process (the same script under either SDK; the API is the same) measures:

- ``reference``: ``flyte.run(flyte.remote.Task.get(NAME, auto_version="latest"), x=i)`` then
  ``wait()``, ``--runs`` times (a deployed task run by reference: ListTasks, GetTaskDetails,
  CreateRun, the watch); the p50.
- ``logs``: ``list(run.get_logs())`` of each finished run (TailLogs of a finished attempt).
- ``list_runs``: ``list(flyte.remote.Run.listall())`` once the runs are done.
- ``secret_create`` / ``secret_get``: ``flyte.remote.Secret.create`` / ``get``, ``--secrets`` times.
- ``secret_list``: ``list(flyte.remote.Secret.listall(limit=1000))`` of those secrets.

Rounds alternate the SDKs; the table gives medians over rounds. Raw JSON lines go to
``tools/bench/results/<UTC time>-remote/bench_remote.jsonl``.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import textwrap
import time
from pathlib import Path
from typing import Any

from flyte.server.testing import running_server
from tools.bench._rounds import SDK_CHOICES, interleaved_rounds, python_of, sdks_of

MODULE = "benchref"

TASKS = textwrap.dedent(
    """
    import flyte

    env = flyte.TaskEnvironment("benchref")


    @env.task
    async def noop(x: int) -> int:
        print(f"noop {x}")
        return x
    """
)

# `python driver.py URL ROOT RUNS SECRETS`; prints `BENCH {json}` lines.
DRIVER = textwrap.dedent(
    """
    import json
    import pathlib
    import sys
    import time

    import flyte
    import flyte.remote

    url, root, runs, secrets = sys.argv[1], pathlib.Path(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
    sys.path.insert(0, str(root))
    import benchref as tasks

    flyte.init(endpoint=url, insecure=True, project="bench", domain="development", root_dir=root)


    def report(case, started, **values):
        print("BENCH " + json.dumps({"case": case, "seconds": time.perf_counter() - started, **values}), flush=True)


    flyte.deploy(tasks.env, version="bench-v1")
    names = []
    for i in range(runs):
        started = time.perf_counter()
        run = flyte.run(flyte.remote.Task.get("benchref.noop", auto_version="latest"), x=i)
        run.wait()
        report("reference", started, i=i, phase=str(run.phase))
        names.append(run.name)
    for name in names:
        started = time.perf_counter()
        lines = [line for line in flyte.remote.Run.get(name).get_logs() if "noop" in line]
        report("logs", started, lines=len(lines))
    started = time.perf_counter()
    listed = len(list(flyte.remote.Run.listall(limit=1000)))
    report("list_runs", started, n=listed)
    for i in range(secrets):
        started = time.perf_counter()
        flyte.remote.Secret.create(f"bench-secret-{i}", f"value-{i}")
        report("secret_create", started, i=i)
    for i in range(secrets):
        started = time.perf_counter()
        flyte.remote.Secret.get(f"bench-secret-{i}")
        report("secret_get", started, i=i)
    started = time.perf_counter()
    listed = len(list(flyte.remote.Secret.listall(limit=1000)))
    report("secret_list", started, n=listed)
    """
)

CASES = ("reference", "logs", "list_runs", "secret_create", "secret_get", "secret_list")


def one_round(sdk: str, args: argparse.Namespace, work: Path, round_no: int) -> list[dict[str, Any]]:
    python = python_of(sdk)
    root = work / f"{sdk}-{round_no}-project"
    root.mkdir()
    (root / f"{MODULE}.py").write_text(f"{TASKS}\n# round {round_no} {time.time_ns()}\n")
    (root / "driver.py").write_text(DRIVER)
    data = work / f"{sdk}-{round_no}-data"
    base = {"sdk": sdk, "round": round_no, "load": os.getloadavg()[0]}
    a0 = python.parent / "a0" if sdk == "public" else None
    with running_server(data, a0_command=a0) as srv:
        url = srv.url
        done = subprocess.run(
            [str(python), str(root / "driver.py"), url, str(root), str(args.runs), str(args.secrets)],
            capture_output=True,
            text=True,
            timeout=args.timeout,
            cwd=root,
        )
    lines = [json.loads(line[6:]) for line in done.stdout.splitlines() if line.startswith("BENCH ")]
    if done.returncode != 0 or not lines:
        raise RuntimeError(f"the {sdk} driver failed ({done.returncode}): {done.stderr[-3000:]}")
    return [{**base, **line} for line in lines]


def summarize(rows: list[dict[str, Any]], sdks: list[str]) -> str:
    header = "| SDK (client) | " + " | ".join(f"{c} p50 ms" for c in CASES) + " |"
    lines = [header, "|---|" + "---|" * len(CASES)]
    medians: dict[str, dict[str, float]] = {}
    for sdk in sdks:
        per_case: dict[str, float] = {}
        for case in CASES:
            per_round = []
            for n in sorted({r["round"] for r in rows if r["sdk"] == sdk}):
                values = [r["seconds"] for r in rows if r["sdk"] == sdk and r["round"] == n and r["case"] == case]
                if values:
                    per_round.append(statistics.median(values))
            per_case[case] = statistics.median(per_round) * 1000 if per_round else float("nan")
        medians[sdk] = per_case
        label = "ours" if sdk == "ours" else "flyte 2.12.1"
        lines.append(f"| {label} | " + " | ".join(f"{per_case[c]:.1f}" for c in CASES) + " |")
    if len(sdks) == 2:
        ours, public = medians["ours"], medians["public"]
        lines.append("| ours / 2.12.1 | " + " | ".join(f"{ours[c] / public[c]:.2f}" for c in CASES) + " |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sdk", choices=SDK_CHOICES, default="both")
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--secrets", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--timeout", type=float, default=1800)
    args = parser.parse_args()
    sdks = sdks_of(args.sdk)
    rows, raw = interleaved_rounds("remote", sdks, args.rounds, lambda sdk, work, n: one_round(sdk, args, work, n))
    print(summarize(rows, sdks))
    print(f"raw: {raw}")


if __name__ == "__main__":
    main()
