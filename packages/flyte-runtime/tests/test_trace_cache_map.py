"""Traces replay on retry, the cache survives processes, map runs in parallel in order."""

import asyncio
import subprocess
import sys
import textwrap
import threading
import time

import pytest

from flyte.errors import RuntimeUserError, TraceDoesNotAllowNestedTasksError
from flyte.runtime import TaskEnvironment, map, run, trace, with_runcontext

env = TaskEnvironment("ttm")


def test_traced_calls_that_succeeded_are_replayed_when_the_task_retries():
    calls = {"charge": 0, "attempts": 0}

    @trace
    async def charge_card(amount: int) -> str:
        calls["charge"] += 1
        return f"receipt-{amount}"

    @env.task(retries=2)
    async def checkout() -> str:
        calls["attempts"] += 1
        receipt = await charge_card(10)
        if calls["attempts"] == 1:
            raise ConnectionError("shipping service down")
        return receipt

    assert run(checkout).outputs().o0 == "receipt-10"
    assert calls == {"charge": 1, "attempts": 2}


def test_sync_traces_replay_too():
    calls = []

    @trace
    def fetch(i: int) -> int:
        calls.append(i)
        return i * 2

    @env.task(retries=1)
    def job() -> int:
        total = fetch(1) + fetch(2)
        if len(calls) == 2 and not hasattr(job, "_failed"):
            job._failed = True
            raise RuntimeError("once")
        return total

    assert run(job).outputs().o0 == 6
    assert calls == [1, 2]


def test_a_trace_must_not_start_tasks():
    @env.task
    async def leaf() -> int:
        return 1

    @trace
    async def helper() -> int:
        return await leaf()

    @env.task
    async def parent() -> int:
        return await helper()

    with pytest.raises(TraceDoesNotAllowNestedTasksError):
        run(parent)


def test_traces_outside_a_task_are_plain_calls():
    @trace
    def plain(x: int) -> int:
        return x + 1

    assert plain(1) == 2


def test_cached_outputs_are_reused_within_a_run():
    calls = []

    @env.task(cache="auto")
    async def square(x: int) -> int:
        calls.append(x)
        return x * x

    @env.task
    async def twice() -> int:
        return await square(4) + await square(4)

    assert run(twice).outputs().o0 == 32
    assert calls == [4]


def test_ignored_inputs_do_not_change_the_cache_key():
    from flyte.models import Cache

    calls = []

    @env.task(cache=Cache("auto", ignored_inputs="verbose"))
    async def compute(x: int, verbose: bool = False) -> int:
        calls.append(verbose)
        return x

    run(compute, 1, verbose=False)
    run(compute, 1, verbose=True)
    run(compute, 2, verbose=True)
    assert calls == [False, True]


def test_overwrite_cache_recomputes_and_disable_run_cache_skips_it():
    calls = []

    @env.task(cache="auto")
    async def value() -> int:
        calls.append(1)
        return len(calls)

    assert run(value).outputs().o0 == 1
    assert run(value).outputs().o0 == 1
    assert with_runcontext(overwrite_cache=True).run(value).outputs().o0 == 2
    assert with_runcontext(disable_run_cache=True).run(value).outputs().o0 == 3
    assert run(value).outputs().o0 == 2  # the overwritten entry


def test_the_cache_is_shared_across_processes(tmp_path):
    module = tmp_path / "cached_job.py"
    module.write_text(
        textwrap.dedent(
            """
            import sys
            from pathlib import Path
            from flyte.runtime import TaskEnvironment, run

            env = TaskEnvironment("xproc")
            marker = Path(sys.argv[1])

            @env.task(cache="auto")
            async def expensive(x: int) -> int:
                with marker.open("a") as f:
                    f.write("ran\\n")
                return x * 10

            print(run(expensive, 7).outputs().o0)
            """
        )
    )
    marker = tmp_path / "marker.txt"
    outs = [
        subprocess.run([sys.executable, str(module), str(marker)], capture_output=True, text=True, check=True).stdout
        for _ in range(2)
    ]
    assert [o.strip() for o in outs] == ["70", "70"]
    assert marker.read_text() == "ran\n"  # the second process got the cached value


def test_a_changed_function_body_is_a_new_cache_version(tmp_path):
    template = textwrap.dedent(
        """
        from flyte.runtime import TaskEnvironment, run
        env = TaskEnvironment("xver")

        @env.task(cache="auto")
        async def f(x: int) -> int:
            return x + {delta}

        print(run(f, 1).outputs().o0)
        """
    )
    outs = []
    for delta in (1, 2):
        path = tmp_path / "job.py"
        path.write_text(template.format(delta=delta))
        outs.append(subprocess.run([sys.executable, str(path)], capture_output=True, text=True, check=True).stdout)
    assert [o.strip() for o in outs] == ["2", "3"]


def test_map_yields_results_in_input_order():
    @env.task
    async def slow_double(x: int) -> int:
        await asyncio.sleep(0.01 * (5 - x))
        return 2 * x

    @env.task
    async def parent() -> list[int]:
        return [r async for r in map.aio(slow_double, range(5))]

    assert run(parent).outputs().o0 == [0, 2, 4, 6, 8]


def test_map_from_a_sync_parent_respects_concurrency():
    running = 0
    peak = 0
    lock = threading.Lock()

    @env.task
    def work(x: int) -> int:
        nonlocal running, peak
        with lock:
            running += 1
            peak = max(peak, running)
        time.sleep(0.02)
        with lock:
            running -= 1
        return x + 1

    @env.task
    def parent() -> list[int]:
        return list(map(work, range(8), concurrency=2))

    assert run(parent).outputs().o0 == list(range(1, 9))
    assert peak <= 2


def test_map_returns_exceptions_in_place_or_raises():
    @env.task
    async def maybe(x: int) -> int:
        if x == 2:
            raise ValueError("two")
        return x

    @env.task
    async def lenient() -> list[str]:
        return [type(r).__name__ async for r in map.aio(maybe, range(4))]

    @env.task
    async def strict() -> list[int]:
        return [r async for r in map.aio(maybe, range(4), return_exceptions=False)]

    assert run(lenient).outputs().o0 == ["int", "int", "ValueError", "int"]
    with pytest.raises(RuntimeUserError, match="two"):
        run(strict)


def test_map_outside_a_run_is_a_plain_map():
    @env.task
    def inc(x: int) -> int:
        return x + 1

    assert list(map(inc, [1, 2])) == [2, 3]


def test_map_zips_several_iterables():
    @env.task
    async def mul(a: int, b: int) -> int:
        return a * b

    @env.task
    async def parent() -> list[int]:
        return [r async for r in map.aio(mul, [1, 2, 3], [4, 5, 6])]

    assert run(parent).outputs().o0 == [4, 10, 18]


def test_the_sync_form_of_map_in_async_code_is_a_clear_error_not_a_deadlock():
    from flyte.errors import SyncTaskCallInAsyncContextError

    @env.task
    async def inc(x: int) -> int:
        return x + 1

    @env.task
    async def wrong() -> list[int]:
        return list(map(inc, [1, 2]))

    with pytest.raises(SyncTaskCallInAsyncContextError, match=r"flyte.map.aio"):
        run(wrong)


def test_map_of_an_async_task_outside_a_run_runs_each_call():
    @env.task
    async def double(x: int) -> int:
        return 2 * x

    assert list(map(double, [1, 2])) == [2, 4]
