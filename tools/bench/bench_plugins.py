"""Start-up overhead per task of each plugin's local engine (Spark, Dask, Ray): first task vs reused.

    uv run python -m tools.bench.bench_plugins [--engines spark,dask,ray] [--rounds 3] [--out FILE]

Each round runs every engine in a fresh worker process (so the first start is a cold one) and
times, with ``flyte.run`` in local mode and a trivial task body that touches the engine:

- ``first task``: the first run in the process, which starts the engine (Spark: launches the JVM).
- ``reused task``: the next run of the same task; the engine stayed up, idle, and is reused.
- ``restart task``: a run after ``local_<engine>.shutdown()`` in the same process (Spark keeps
  its JVM, so this is the cost of a new session, not of a new JVM).
- ``no-reuse task``: the per-task cost with ``idle_timeout = 0`` (start and stop around every
  task: what each task paid before engines were kept between tasks).
- ``body``: the trivial body alone, once the engine runs (what every task pays anyway).

Overhead = run time - body. Prints a markdown table of medians over the rounds, with the load
average; raw JSON lines go to ``tools/bench/results/<UTC time>-plugins/plugins.jsonl``.
flyte 2.12.1's plugins are not measured side by side: its venv has the plugin distributions but
not their engines (pyspark, distributed, ray).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ENGINES = ("spark", "dask", "ray")
COLUMNS = ("first task", "reused task", "restart task", "no-reuse task", "body")


# --- worker ---------------------------------------------------------------------------------


def _plugin(engine: str) -> tuple[Any, Any, Any]:
    """(engine, config, trivial task body that uses the engine)."""
    from flyte.runtime import ctx

    if engine == "spark":
        from flyteplugins.spark import Spark, local_spark

        def spark_body() -> int:
            return int(ctx().data["spark_session"].range(10).count())  # type: ignore[union-attr]

        return local_spark, Spark(), spark_body
    if engine == "dask":
        from flyteplugins.dask import Dask, WorkerGroup, local_dask

        def dask_body() -> int:
            return int(ctx().data["dask_client"].submit(sum, [1, 2, 3]).result())  # type: ignore[union-attr]

        return local_dask, Dask(workers=WorkerGroup(number_of_workers=2)), dask_body
    from flyteplugins.ray import RayJobConfig, WorkerNodeConfig, local_ray

    def ray_body() -> int:
        import ray

        @ray.remote
        def one() -> int:
            return 1

        return int(ray.get(one.remote()))

    return local_ray, RayJobConfig(worker_node_config=[WorkerNodeConfig("w", replicas=1)]), ray_body


def _timed(fn: Any) -> float:
    started = time.perf_counter()
    fn()
    return time.perf_counter() - started


def worker(engine: str) -> dict[str, float]:
    from flyte.runtime import TaskEnvironment, run

    local, config, body = _plugin(engine)
    task = TaskEnvironment(f"bench-{engine}", plugin_config=config).task(body)
    local.idle_timeout = 600
    out = {"first task": _timed(lambda: run(task))}
    out["reused task"] = _timed(lambda: run(task))
    with local.hold(config):
        body_ctx_free = _body_alone(local, engine)
    out["body"] = body_ctx_free
    local.shutdown()
    out["restart task"] = _timed(lambda: run(task))
    local.shutdown()
    local.idle_timeout = 0
    out["no-reuse task"] = _timed(lambda: run(task))
    return out


def _body_alone(local: Any, engine: str) -> float:
    """The body's work without the task around it, on the running engine."""
    handle = local.handle
    if engine == "spark":
        return _timed(lambda: handle.session.range(10).count())
    if engine == "dask":
        return _timed(lambda: handle.client.submit(sum, [1, 2, 3]).result())
    import ray

    @ray.remote
    def one() -> int:
        return 1

    ray.get(one.remote())  # the first call ships the function
    return _timed(lambda: ray.get(one.remote()))


# --- driver ---------------------------------------------------------------------------------


def measure(engine: str) -> dict[str, float] | None:
    """One round in a fresh process; None (and the reason on stderr) when the engine failed."""
    with tempfile.TemporaryDirectory() as runs:
        env = {**os.environ, "FLYTE_LOCAL_RUNS_DIR": runs, "FLYTE_LOCAL_CACHE": f"{runs}/cache.sqlite"}
        cmd = [sys.executable, "-m", "tools.bench.bench_plugins", "--child", engine]
        result = subprocess.run(cmd, capture_output=True, text=True, env=env, check=False)
    if result.returncode != 0:
        print(f"{engine} worker failed:\n{result.stderr[-3000:]}", file=sys.stderr)
        return None
    numbers: dict[str, float] = json.loads(result.stdout.strip().splitlines()[-1])
    return numbers


def table(rows: list[dict[str, Any]]) -> str:
    """The markdown table of medians per engine, from JSON lines rows (failed rounds left out)."""
    by_engine: dict[str, list[dict[str, float]]] = {}
    for row in rows:
        if row.get("seconds"):
            by_engine.setdefault(row["engine"], []).append(row["seconds"])
    loads = [row["load1"] for row in rows]
    rounds = ", ".join(f"{engine} {len(r)}" for engine, r in by_engine.items())
    lines = [
        f"rounds: {rounds}; medians in seconds; load average (1 min) {min(loads):.1f}-{max(loads):.1f}",
        "",
        "| engine | " + " | ".join(COLUMNS) + " | overhead first | overhead reused | first / reused |",
        "|---|" + "---:|" * (len(COLUMNS) + 3),
    ]
    for engine, measured in by_engine.items():
        m = {c: statistics.median(r[c] for r in measured) for c in COLUMNS}
        first, reused = m["first task"] - m["body"], m["reused task"] - m["body"]
        ratio = m["first task"] / m["reused task"]
        cells = [f"{m[c]:.3f}" for c in COLUMNS] + [f"{first:.3f}", f"{reused:.3f}", f"{ratio:.0f}x"]
        lines.append(f"| {engine} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--engines", default=",".join(ENGINES), help="comma-separated: spark, dask, ray")
    parser.add_argument("--rounds", type=int, default=3, help="fresh worker processes per engine")
    parser.add_argument("--out", default=None, help="JSON lines file (default: tools/bench/results/<time>-plugins/)")
    parser.add_argument("--summarize", metavar="JSONL", nargs="+", help="print the table of earlier results")
    parser.add_argument("--child", choices=ENGINES, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        print(json.dumps(worker(args.child)))
        return 0
    if args.summarize:
        earlier = [json.loads(line) for path in args.summarize for line in Path(path).read_text().splitlines() if line]
        print(table(earlier))
        return 0
    engines = [e.strip() for e in args.engines.split(",") if e.strip()]
    unknown = sorted(set(engines) - set(ENGINES))
    if unknown or args.rounds < 1:
        parser.error(f"unknown engines {unknown}" if unknown else "--rounds must be at least 1")
    stamp = time.strftime("%Y%m%d-%H%M%S", time.gmtime())
    out = Path(args.out) if args.out else Path(__file__).parent / "results" / f"{stamp}-plugins" / "plugins.jsonl"
    out.parent.mkdir(parents=True, exist_ok=True)
    rows: list[dict[str, Any]] = []
    with out.open("a") as sink:
        for engine in engines:
            for i in range(args.rounds):
                numbers = measure(engine)
                row = {"engine": engine, "round": i, "load1": os.getloadavg()[0], "seconds": numbers}
                rows.append(row)
                sink.write(json.dumps(row) + "\n")
                sink.flush()
    print(table(rows))
    print(f"\nraw results: {out}")
    return 0 if all(row["seconds"] for row in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
