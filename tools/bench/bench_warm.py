"""The embedded server's executors side by side: ``process`` (a fresh ``a0`` per attempt) and
``warm`` (attempts forked from a worker that has imported the runtime).

    uv run --all-packages python -m tools.bench.bench_warm                  # 3 rounds, every case
    uv run --all-packages python -m tools.bench.bench_warm --rounds 5 --cases trivial,concurrent

Cases, each on a fresh server (its own data dir, a free loopback port, default settings):

- ``trivial``: one trivial run at a time, CreateRun to a terminal phase as a client sees it
  (WatchActionDetails); the first run after start is reported apart, then the p50 / p90 of
  ``--trivial-runs`` more.
- ``concurrent``: ``--concurrent`` runs submitted at once; all must succeed; wall time and the
  peak memory of the server and every process under it (RSS summed, and PSS, which counts pages
  that forked workers share once).
- ``fanout``: one parent that gathers ``--fanout`` children (``add``). Measured only when the
  server runs children as actions of their own (its Queue service); otherwise they run inside
  the parent's process and the case is skipped.

Rounds alternate the executors (process, warm, process, warm...) so that the noise of a shared
2-core machine hits both alike; the table reports medians over rounds. flyte 2.12.1 has no
embedded backend, so there is nothing of it to run beside these. Raw JSON lines go to
``tools/bench/results/<timestamp>/bench_warm.jsonl``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import tempfile
import textwrap
import threading
import time
from pathlib import Path
from typing import Any

from flyte.server.testing import running_server

RESULTS = Path(__file__).parent / "results"
PROJECT, DOMAIN = "bench", "development"
EXECUTORS = ("process", "warm")
CASES = ("trivial", "concurrent", "fanout")
MODULE = "benchtasks"
TASKS = textwrap.dedent(
    """
    import asyncio

    from flyte.runtime import TaskEnvironment

    env = TaskEnvironment("bench")

    @env.task
    async def add(x: int, y: int) -> int:
        return x + y

    @env.task
    async def fan(n: int) -> int:
        return sum(await asyncio.gather(*(add(i, 1) for i in range(n))))
    """
)


async def add(x: int, y: int) -> int: ...
async def fan(n: int) -> int: ...


# ---------------------------------------------------------------------------------- the server


def _tree(root: int) -> list[int]:
    """``root`` and every process under it."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                ppid = int(f.read().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        children.setdefault(ppid, []).append(int(entry))
    found, todo = [], [root]
    while todo:
        pid = todo.pop()
        found.append(pid)
        todo.extend(children.get(pid, []))
    return found


def _kib(path: str, field: str) -> int:
    try:
        with open(path) as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def tree_cpu_seconds(root: int) -> float:
    """CPU time of ``root`` and every live process under it, with the children each has reaped."""
    ticks = 0
    for pid in _tree(root):
        try:
            with open(f"/proc/{pid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        ticks += sum(int(x) for x in fields[11:15])  # utime, stime, cutime, cstime
    return ticks / os.sysconf("SC_CLK_TCK")


def own_cpu_seconds(pid: int) -> float:
    """CPU time of ``pid`` alone (not its children)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class MemorySampler:
    """Peak memory of a process tree, sampled in a thread: server alone, tree RSS sum, tree PSS sum."""

    def __init__(self, root: int, interval: float = 0.2):
        self._root, self._interval = root, interval
        self.peak = {"server_rss_mib": 0.0, "tree_rss_mib": 0.0, "tree_pss_mib": 0.0, "tree_processes": 0.0}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> MemorySampler:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        while not self._stop.is_set():
            pids = _tree(self._root)
            sample = {
                "server_rss_mib": _kib(f"/proc/{self._root}/status", "VmRSS") / 1024,
                "tree_rss_mib": sum(_kib(f"/proc/{p}/status", "VmRSS") for p in pids) / 1024,
                "tree_pss_mib": sum(_kib(f"/proc/{p}/smaps_rollup", "Pss") for p in pids) / 1024,
                "tree_processes": float(len(pids)),
            }
            for key, value in sample.items():
                self.peak[key] = max(self.peak[key], value)
            self._stop.wait(self._interval)


# ---------------------------------------------------------------------------------- the client


async def upload(clients: Any, path: Path) -> str:
    """CreateUploadLocation + PUT, the public client's sequence; returns the native URL."""
    import hashlib
    import urllib.request
    from base64 import b64encode

    from flyteidl2.dataproxy import dataproxy_service_pb2

    data = await asyncio.to_thread(path.read_bytes)
    md5 = hashlib.md5(data).digest()
    location = await clients.dataproxy_service.CreateUploadLocation(
        dataproxy_service_pb2.CreateUploadLocationRequest(
            project=PROJECT, domain=DOMAIN, filename=path.name, content_md5=md5
        )
    )
    headers = {"Content-MD5": b64encode(md5).decode(), **location.headers}
    request = urllib.request.Request(location.signed_url, data=data, method="PUT", headers=headers)
    await asyncio.to_thread(lambda: urllib.request.urlopen(request, timeout=60).close())
    return str(location.native_url)


async def deploy(clients: Any, workdir: Path) -> dict[str, Any]:
    from flyteidl2.task import task_service_pb2

    from flyte.models import TaskID, TaskSpec
    from flyte.runtime._bundle import build_tgz_bundle
    from flyte.runtime._deploy import a0_args
    from flyte.types import NativeInterface

    project = workdir / "project"
    project.mkdir(exist_ok=True)
    (project / f"{MODULE}.py").write_text(TASKS)
    uri = await upload(clients, build_tgz_bundle(project, workdir / "bundles").path)
    ids = {}
    for function in (add, fan):
        name = function.__name__
        spec = TaskSpec(
            TaskID(f"bench.{name}", "v1", project=PROJECT, domain=DOMAIN),
            interface=NativeInterface.from_callable(function).to_proto(),
            image="local",
            args=a0_args(uri, MODULE, name, "v1"),
            short_name=name,
            environment="bench",
        )
        await clients.task_service.DeployTask(
            task_service_pb2.DeployTaskRequest(task_id=spec.task_id.to_proto(), spec=spec.to_proto())
        )
        ids[name] = spec.task_id.to_proto()
    return ids


def _inputs(**values: int) -> Any:
    from flyteidl2.task import common_pb2

    from flyte.types import TypeEngine

    message = common_pb2.Inputs()
    for name, value in values.items():
        literal = TypeEngine.to_literal_sync(value, int, TypeEngine.to_literal_type(int))
        message.literals.add(name=name, value=literal)
    return message


async def run_once(clients: Any, task: Any, **values: int) -> tuple[float, int, Any]:
    """Seconds from CreateRun to the terminal state the watch sends, the phase, the action id."""
    from flyteidl2.common import identifier_pb2
    from flyteidl2.workflow import run_service_pb2

    started = time.perf_counter()
    response = await clients.run_service.CreateRun(
        run_service_pb2.CreateRunRequest(
            project_id=identifier_pb2.ProjectIdentifier(name=PROJECT, domain=DOMAIN),
            task_id=task,
            inputs=_inputs(**values),
        )
    )
    action = response.run.action.id
    phase = 0
    stream = clients.run_service.WatchActionDetails(run_service_pb2.WatchActionDetailsRequest(action_id=action))
    async for update in stream:
        phase = update.details.status.phase
    return time.perf_counter() - started, phase, action


async def count_actions(clients: Any, action: Any) -> int:
    from flyteidl2.common import list_pb2
    from flyteidl2.workflow import run_service_pb2

    total, token = 0, ""
    while True:
        page = await clients.run_service.ListActions(
            run_service_pb2.ListActionsRequest(run_id=action.run, request=list_pb2.ListRequest(limit=1000, token=token))
        )
        total += len(page.actions)
        token = page.token
        if not token:
            return total


async def measure(executor: str, cases: list[str], args: argparse.Namespace, workdir: Path) -> dict[str, Any]:
    from flyteidl2.common import phase_pb2

    from flyte.remote import ClientSet

    succeeded = phase_pb2.ACTION_PHASE_SUCCEEDED
    data = workdir / f"data-{executor}"
    out: dict[str, Any] = {"executor": executor}
    with running_server(data, executor=executor, max_concurrency=args.max_concurrency or None) as srv:
        async with ClientSet(srv.address, insecure=True, rpc_retries=1) as clients:
            ids = await deploy(clients, workdir)
            if "trivial" in cases:
                first, phase, _ = await run_once(clients, ids["add"], x=1, y=2)
                assert phase == succeeded, phase
                times = []
                for _ in range(args.trivial_runs):
                    seconds, phase, _ = await run_once(clients, ids["add"], x=1, y=2)
                    assert phase == succeeded, phase
                    times.append(seconds)
                times.sort()
                out["trivial"] = {
                    "first_s": first,
                    "p50_s": statistics.median(times),
                    "p90_s": times[int(0.9 * (len(times) - 1))],
                    "runs": len(times),
                }
            if "concurrent" in cases:
                with MemorySampler(srv.process.pid) as memory:
                    started = time.perf_counter()
                    results = await asyncio.gather(
                        *(run_once(clients, ids["add"], x=i, y=1) for i in range(args.concurrent))
                    )
                    wall = time.perf_counter() - started
                out["concurrent"] = {
                    "runs": args.concurrent,
                    "succeeded": sum(1 for _, phase, _ in results if phase == succeeded),
                    "wall_s": wall,
                    "runs_per_s": args.concurrent / wall,
                    **memory.peak,
                }
            if "fanout" in cases:
                _, phase, probe = await run_once(clients, ids["fan"], n=2)
                if await count_actions(clients, probe) < 3:
                    out["fanout"] = {"skipped": "children run inside the parent (the server has no Queue service)"}
                else:
                    cpu = tree_cpu_seconds(srv.process.pid)
                    server_cpu = own_cpu_seconds(srv.process.pid)
                    # Sampled once a second: reading every process's smaps costs CPU the fan-out
                    # would otherwise have (the concurrent case samples 5 times a second).
                    with MemorySampler(srv.process.pid, interval=1.0) as memory:
                        wall, phase, action = await run_once(clients, ids["fan"], n=args.fanout)
                    cpu = tree_cpu_seconds(srv.process.pid) - cpu
                    server_cpu = own_cpu_seconds(srv.process.pid) - server_cpu
                    actions = await count_actions(clients, action)
                    out["fanout"] = {
                        "children": args.fanout,
                        "succeeded": phase == succeeded,
                        "actions": actions,
                        "wall_s": wall,
                        "actions_per_s": actions / wall,
                        # CPU of the server and everything under it, per action: what bounds the
                        # rate on an idle machine (cores / this), whatever the load was meanwhile.
                        "cpu_ms_per_action": 1000 * cpu / actions,
                        "server_cpu_ms_per_action": 1000 * server_cpu / actions,
                        "cpu_bound_actions_per_s_2_cores": 2 * actions / cpu if cpu else None,
                        **memory.peak,
                    }
    return out


# ---------------------------------------------------------------------------------- report


def _get(result: dict[str, Any], path: tuple[str, ...]) -> float | None:
    value: Any = result
    for key in path:
        if not isinstance(value, dict) or key not in value:
            return None
        value = value[key]
    return float(value) if isinstance(value, (int, float)) else None


ROWS: list[tuple[str, tuple[str, ...], str]] = [
    ("trivial run, first after start (s)", ("trivial", "first_s"), "{:.2f}"),
    ("trivial run submit -> complete, p50 (s)", ("trivial", "p50_s"), "{:.3f}"),
    ("trivial run submit -> complete, p90 (s)", ("trivial", "p90_s"), "{:.3f}"),
    ("100 concurrent runs: succeeded", ("concurrent", "succeeded"), "{:.0f}"),
    ("100 concurrent runs: wall (s)", ("concurrent", "wall_s"), "{:.1f}"),
    ("100 concurrent runs: runs/s", ("concurrent", "runs_per_s"), "{:.1f}"),
    ("100 concurrent runs: peak server RSS (MiB)", ("concurrent", "server_rss_mib"), "{:.0f}"),
    ("100 concurrent runs: peak RSS, server + children, summed (MiB)", ("concurrent", "tree_rss_mib"), "{:.0f}"),
    ("100 concurrent runs: peak PSS, server + children (MiB)", ("concurrent", "tree_pss_mib"), "{:.0f}"),
    ("fan-out: actions/s", ("fanout", "actions_per_s"), "{:.1f}"),
    ("fan-out: wall (s)", ("fanout", "wall_s"), "{:.1f}"),
    ("fan-out: CPU per action, server + children (ms)", ("fanout", "cpu_ms_per_action"), "{:.1f}"),
    ("fan-out: of which the server process (ms)", ("fanout", "server_cpu_ms_per_action"), "{:.1f}"),
    ("fan-out: 2 cores / CPU per action (actions/s)", ("fanout", "cpu_bound_actions_per_s_2_cores"), "{:.0f}"),
    ("fan-out: peak PSS, server + children (MiB)", ("fanout", "tree_pss_mib"), "{:.0f}"),
]


def table(results: list[dict[str, Any]]) -> str:
    lines = ["| metric | process | warm | warm / process |", "|---|---|---|---|"]
    for label, path, fmt in ROWS:
        medians = {}
        for executor in EXECUTORS:
            values = [v for r in results if r["executor"] == executor if (v := _get(r, path)) is not None]
            medians[executor] = statistics.median(values) if values else None
        if all(v is None for v in medians.values()):
            continue
        cells = [fmt.format(medians[e]) if medians[e] is not None else "-" for e in EXECUTORS]
        p, w = medians["process"], medians["warm"]
        ratio = f"{w / p:.2f}" if p and w is not None else "-"
        lines.append(f"| {label} | {cells[0]} | {cells[1]} | {ratio} |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--cases", default=",".join(CASES))
    parser.add_argument("--trivial-runs", type=int, default=15)
    parser.add_argument("--concurrent", type=int, default=100)
    parser.add_argument("--fanout", type=int, default=1000)
    parser.add_argument("--max-concurrency", type=int, default=0, help="the servers' setting (default: theirs)")
    parser.add_argument("--executors", default=",".join(EXECUTORS))
    parser.add_argument("--report", nargs="*", type=Path, help="only print the table of these raw JSON-lines files")
    args = parser.parse_args()
    if args.report:
        print(table([json.loads(line) for path in args.report for line in path.read_text().splitlines() if line]))
        return
    executors = [e for e in args.executors.split(",") if e]
    if set(executors) - set(EXECUTORS):
        parser.error(f"--executors: expected some of {', '.join(EXECUTORS)}")
    cases = [c for c in args.cases.split(",") if c]
    unknown = set(cases) - set(CASES)
    if unknown:
        parser.error(f"unknown cases {sorted(unknown)}; expected some of {', '.join(CASES)}")
    stamp = time.strftime("%Y%m%d-%H%M%S", time.gmtime())
    out_dir = RESULTS / stamp
    out_dir.mkdir(parents=True, exist_ok=True)
    load = os.getloadavg()
    print(f"# bench_warm {stamp} UTC, load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}", flush=True)
    results = []
    with tempfile.TemporaryDirectory(prefix="bench-warm-") as tmp, open(out_dir / "bench_warm.jsonl", "w") as raw:
        for round_ in range(args.rounds):
            for executor in executors:
                workdir = Path(tmp) / f"{round_}-{executor}"
                workdir.mkdir()
                result = asyncio.run(measure(executor, cases, args, workdir))
                result.update(round=round_, load=os.getloadavg()[0], max_concurrency=args.max_concurrency or None)
                results.append(result)
                raw.write(json.dumps(result) + "\n")
                raw.flush()
                print(json.dumps(result), flush=True)
    load = os.getloadavg()
    print(f"\nload average after: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}; raw: {out_dir / 'bench_warm.jsonl'}\n")
    print(table(results))


if __name__ == "__main__":
    main()
