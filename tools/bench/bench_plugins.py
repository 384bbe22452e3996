"""Start-up overhead of each plugin's local engine (Spark, Dask, Ray), per task and reused.

    uv run python -m tools.bench.bench_plugins [--engines spark,dask,ray] [--json]

Each engine is measured in a fresh worker process (so the first start is a cold one), in this
order: a cold start and a stop (``LocalEngine.acquire`` / ``release``); a second start and stop
in the same process (Spark keeps its JVM, so this one is cheap); a whole local run of a trivial
task that starts and stops the engine itself; and the same run while the engine is held
(``local_<engine>.hold(config)``), i.e. the per-task cost once the engine is reused. Prints a
markdown table of seconds; ``--json`` prints the raw numbers.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from typing import Any

ENGINES = ("spark", "dask", "ray")


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
    started = time.perf_counter()
    from flyte.runtime import TaskEnvironment, run

    local, config, body = _plugin(engine)
    out = {"import": time.perf_counter() - started}
    out["first start"] = _timed(lambda: local.acquire(config))
    out["stop"] = _timed(local.release)
    out["second start"] = _timed(lambda: local.acquire(config))
    out["second stop"] = _timed(local.release)
    task = TaskEnvironment(f"bench-{engine}", plugin_config=config).task(body)
    out["run, engine per task"] = _timed(lambda: run(task))
    with local.hold(config):
        run(task)  # the first run in a held engine warms the engine's workers
        out["run, engine held"] = _timed(lambda: run(task))
    return out


# --- driver ---------------------------------------------------------------------------------


def measure(engine: str) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as runs:
        env = {**os.environ, "FLYTE_LOCAL_RUNS_DIR": runs, "FLYTE_LOCAL_CACHE": f"{runs}/cache.sqlite"}
        cmd = [sys.executable, "-m", "tools.bench.bench_plugins", "--child", engine]
        result = subprocess.run(cmd, capture_output=True, text=True, env=env, check=False)
    if result.returncode != 0:
        raise SystemExit(f"{engine} worker failed:\n{result.stderr[-3000:]}")
    numbers: dict[str, float] = json.loads(result.stdout.strip().splitlines()[-1])
    return numbers


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--engines", default=",".join(ENGINES), help="comma-separated: spark, dask, ray")
    parser.add_argument("--json", action="store_true", help="print the raw numbers")
    parser.add_argument("--child", choices=ENGINES, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        print(json.dumps(worker(args.child)))
        return 0
    results = {engine: measure(engine) for engine in args.engines.split(",")}
    if args.json:
        print(json.dumps(results, indent=2))
        return 0
    columns = list(next(iter(results.values())))
    print("| engine | " + " | ".join(columns) + " |")
    print("|---|" + "---:|" * len(columns))
    for engine, numbers in results.items():
        print(f"| {engine} | " + " | ".join(f"{numbers[c]:.2f}" for c in columns) + " |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
