"""Local runs: the whole run in-process, tasks calling tasks as child actions."""

import asyncio
import contextlib
import json
import threading
from pathlib import Path
from typing import NamedTuple

import pytest

from flyte.errors import (
    MaxRuntimeExceededError,
    NonRecoverableError,
    RuntimeUserError,
    SyncTaskCallInAsyncContextError,
)
from flyte.models import RetryStrategy
from flyte.runtime import TaskEnvironment, ctx, custom_context, get_custom_context, group, run, with_runcontext

env = TaskEnvironment("tests")


@env.task
async def add(x: int, y: int = 1) -> int:
    return x + y


@env.task
async def fan_out(n: int) -> list[int]:
    return list(await asyncio.gather(*(add(i) for i in range(n))))


@env.task
async def nested(n: int) -> int:
    parts = await fan_out(n)
    return await add(sum(parts), y=0)


@env.task
def sync_add(x: int) -> int:
    return x + 1


@env.task
def sync_parent(n: int) -> int:
    return sum(sync_add(i) for i in range(n))


@env.task
async def async_parent_of_sync(n: int) -> list[int]:
    return list(await asyncio.gather(*(sync_add.aio(i) for i in range(n))))


def test_a_task_called_outside_a_run_is_a_plain_call():
    assert sync_add(1) == 2
    assert asyncio.run(add(1, 2)) == 3


def test_run_returns_outputs_inputs_and_a_finished_handle():
    r = run(add, 41)
    assert r.phase == "SUCCEEDED"
    assert r.done()
    assert r.outputs() == (42,)
    assert r.outputs().o0 == 42
    assert r.inputs() == {"x": 41, "y": 1}
    assert r.url.startswith("file://")
    assert r.wait() is r


def test_async_fan_out_creates_one_action_per_call():
    r = run(fan_out, 20)
    assert r.outputs().o0 == [i + 1 for i in range(20)]
    children = [a for a in r.actions.values() if a.parent == "a0"]
    assert len(children) == 20
    assert len({a.name for a in children}) == 20
    assert all(a.phase == "SUCCEEDED" for a in children)


def test_nested_children_record_their_parent():
    r = run(nested, 3)
    assert r.outputs().o0 == 6
    (fan,) = [a for a in r.actions.values() if a.task == "tests.fan_out"]
    grandchildren = [a for a in r.actions.values() if a.parent == fan.name]
    assert len(grandchildren) == 3


def test_sync_parent_calls_sync_children_directly():
    assert run(sync_parent, 10).outputs().o0 == sum(range(1, 11))


def test_async_parent_awaits_sync_children_through_aio():
    assert run(async_parent_of_sync, 5).outputs().o0 == [1, 2, 3, 4, 5]


def test_sync_task_called_from_async_code_without_aio_is_a_clear_error():
    @env.task
    async def wrong() -> int:
        return sync_add(1)

    with pytest.raises(SyncTaskCallInAsyncContextError, match=r"use `await sync_add.aio\(...\)`"):
        run(wrong)


def test_child_action_names_are_deterministic():
    first = run(fan_out, 5)
    second = run(fan_out, 5)
    assert sorted(first.actions) == sorted(second.actions)


def test_a_childs_exception_reaches_the_parent_as_both_user_error_and_its_own_type():
    @env.task
    async def bad(x: int) -> int:
        raise KeyError(f"no shard {x}")

    seen = {}

    @env.task
    async def parent() -> str:
        try:
            await bad(3)
        except KeyError as e:
            seen["err"] = e
            return "handled"
        return "not reached"

    assert run(parent).outputs().o0 == "handled"
    err = seen["err"]
    assert isinstance(err, RuntimeUserError)
    assert err.code == "KeyError"
    assert "no shard 3" in str(err)
    assert "raise KeyError" in err.child_traceback


def test_a_failed_run_raises_and_records_the_failure(local_dirs):
    @env.task
    async def boom() -> int:
        raise ValueError("kaput")

    with pytest.raises(ValueError, match="kaput") as caught:
        run(boom)
    assert isinstance(caught.value, RuntimeUserError)
    (record_file,) = (local_dirs / "runs").glob("*/run.json")
    record = json.loads(record_file.read_text())
    assert record["phase"] == "FAILED"
    assert record["actions"][0]["error"]["code"] == "ValueError"


def test_retries_rerun_a_failing_task_until_it_succeeds():
    attempts = []

    @env.task(retries=3)
    async def flaky() -> int:
        attempts.append(ctx().attempt_number)
        if len(attempts) < 3:
            raise ConnectionError("try again")
        return len(attempts)

    r = run(flaky)
    assert r.outputs().o0 == 3
    assert attempts == [0, 1, 2]
    assert r.actions["a0"].attempts == 3


def test_retries_give_up_after_the_count():
    calls = []

    @env.task(retries=RetryStrategy(2))
    async def always_fails() -> int:
        calls.append(1)
        raise RuntimeError("nope")

    with pytest.raises(RuntimeUserError, match="nope"):
        run(always_fails)
    assert len(calls) == 3


def test_non_recoverable_errors_skip_retries():
    calls = []

    @env.task(retries=5)
    async def fatal() -> int:
        calls.append(1)
        raise NonRecoverableError("bad input file")

    with pytest.raises(NonRecoverableError):
        run(fatal)
    assert calls == [1]


def test_timeout_cancels_the_action_with_a_timeout_error():
    @env.task(timeout=1)
    async def slow() -> int:
        await asyncio.sleep(30)
        return 1

    with pytest.raises(MaxRuntimeExceededError, match="max_runtime of 1s"):
        run(slow)


def test_override_changes_settings_without_touching_the_original():
    calls = []

    @env.task
    async def once() -> int:
        calls.append(1)
        raise RuntimeError("x")

    more = once.override(retries=2)
    assert once.retries.count == 0
    with pytest.raises(RuntimeUserError):
        run(more)
    assert len(calls) == 3


def test_custom_context_flows_to_children():
    @env.task
    async def read() -> dict:
        return get_custom_context()

    @env.task
    async def outer() -> dict:
        with custom_context(stage="inner"):
            return await read()

    with custom_context(experiment="e42"):
        out = run(outer).outputs().o0
    assert out == {"experiment": "e42", "stage": "inner"}


def test_groups_change_child_names_and_are_recorded():
    @env.task
    async def grouped() -> int:
        with group("left"):
            a = await add(1)
        b = await add(1)
        return a + b

    r = run(grouped)
    children = [a for a in r.actions.values() if a.parent == "a0"]
    assert {a.group for a in children} == {"left", None}
    assert len({a.name for a in children}) == 2


def test_named_tuple_outputs_are_reachable_by_position_and_name():
    class Stats(NamedTuple):
        count: int
        label: str

    @env.task
    async def stats() -> Stats:
        return Stats(3, "three")

    out = run(stats).outputs()
    assert out == (3, "three")
    assert (out.o0, out.o1, out.count, out.label) == (3, "three", 3, "three")


def test_max_action_concurrency_bounds_running_children_without_deadlocking_parents():
    running = 0
    peak = 0
    lock = threading.Lock()

    @env.task
    async def leaf(i: int) -> int:
        nonlocal running, peak
        with lock:
            running += 1
            peak = max(peak, running)
        await asyncio.sleep(0.01)
        with lock:
            running -= 1
        return i

    @env.task
    async def middle(i: int) -> int:
        return sum(await asyncio.gather(*(leaf(i * 10 + j) for j in range(3))))

    @env.task
    async def top() -> int:
        return sum(await asyncio.gather(*(middle(i) for i in range(6))))

    r = with_runcontext(max_action_concurrency=2).run(top)
    assert r.outputs().o0 == sum(i * 10 + j for i in range(6) for j in range(3))
    assert peak <= 2


def test_run_env_vars_are_visible_during_the_run_only(monkeypatch):
    monkeypatch.delenv("FLYTE_TEST_VAR", raising=False)
    import os

    @env.task
    async def read_env() -> str:
        return os.environ["FLYTE_TEST_VAR"]

    assert with_runcontext(env_vars={"FLYTE_TEST_VAR": "yes"}).run(read_env).outputs().o0 == "yes"
    assert "FLYTE_TEST_VAR" not in os.environ


def test_named_runs_keep_their_name_and_record(local_dirs):
    r = with_runcontext(name="nightly-1").run(add, 1)
    assert r.name == "nightly-1"
    assert Path(local_dirs / "runs" / "nightly-1" / "run.json").is_file()


def test_run_of_something_that_is_not_a_task_names_it():
    with pytest.raises(TypeError, match="needs a task"):
        run(len, [1])


def test_bad_arguments_name_the_task():
    with pytest.raises(TypeError, match=r"tests.add\(\): missing a required argument: 'x'"):
        run(add)


def test_run_aio_from_async_code():
    async def main() -> int:
        r = await run.aio(add, 1)
        return r.outputs().o0

    assert asyncio.run(main()) == 2


def test_sync_run_inside_a_running_loop_works_like_in_a_notebook():
    async def cell() -> int:
        return run(add, 5).outputs().o0

    assert asyncio.run(cell()) == 6


def test_sync_children_of_a_sync_parent_retry_and_fail_like_any_child():
    calls = []

    @env.task(retries=1)
    def flaky_sync(x: int) -> int:
        calls.append(x)
        if len(calls) == 1:
            raise ConnectionError("blip")
        return x

    @env.task
    def always_bad() -> int:
        raise LookupError("missing row")

    @env.task
    def sync_parent_of_both() -> str:
        value = flaky_sync(7)
        try:
            always_bad()
        except LookupError as e:
            return f"{value}:{e}"
        return "not reached"

    r = run(sync_parent_of_both)
    assert r.outputs().o0 == "7:missing row"
    assert calls == [7, 7]
    phases = sorted(a.phase for a in r.actions.values() if a.parent == "a0")
    assert phases == ["FAILED", "SUCCEEDED"]


def test_a_sync_task_can_call_an_async_task_and_gets_its_result():
    @env.task
    def sync_calls_async() -> int:
        return add(1, 2) * 10

    assert run(sync_calls_async).outputs().o0 == 30


def test_a_sync_child_with_a_timeout_still_fails_on_time():
    import time

    @env.task(timeout=1)
    def sleepy() -> int:
        time.sleep(3)
        return 1

    @env.task
    def parent() -> str:
        try:
            sleepy()
        except MaxRuntimeExceededError:
            return "timed out"
        return "finished"

    started = time.perf_counter()
    assert run(parent).outputs().o0 == "timed out"
    assert time.perf_counter() - started < 2.9


def test_the_record_holds_each_actions_inputs_outputs_and_error(local_dirs):
    from dataclasses import dataclass

    @dataclass
    class Point:
        x: int
        y: int

    @env.task
    async def move(p: Point, dx: int) -> Point:
        return Point(p.x + dx, p.y)

    @env.task
    async def explode(x: int) -> int:
        raise ValueError(f"bad {x}")

    @env.task
    async def journey() -> Point:
        with contextlib.suppress(ValueError):
            await explode(1)
        return await move(Point(1, 2), dx=3)

    r = run(journey)
    record = json.loads((Path(r.url.removeprefix("file://")) / "run.json").read_text())
    by_task = {a["task"]: a for a in record["actions"]}
    assert by_task["tests.move"]["inputs"] == {"p": {"x": 1, "y": 2}, "dx": 3}
    assert by_task["tests.move"]["outputs"] == {"x": 4, "y": 2}
    failed = by_task["tests.explode"]
    assert failed["phase"] == "FAILED"
    assert failed["error"]["code"] == "ValueError"
    assert "bad 1" in failed["error"]["message"]
    assert 'raise ValueError(f"bad {x}")' in failed["error"]["traceback"]
    assert record["actions"][0]["name"] == "a0"


def test_a_tasks_own_plugin_config_selects_the_plugin_class():
    from dataclasses import dataclass

    from flyte.runtime import AsyncFunctionTaskTemplate, TaskPluginRegistry

    @dataclass(frozen=True)
    class EchoConfig:
        word: str

    @dataclass(kw_only=True)
    class EchoTask(AsyncFunctionTaskTemplate):
        task_type: str = "echo"

    TaskPluginRegistry.register(EchoConfig, EchoTask)

    @env.task(plugin_config=EchoConfig("hi"))
    async def plugged() -> int:
        return 1

    @env.task
    async def plain() -> int:
        return 1

    assert type(plugged) is EchoTask
    assert plugged.task_type == "echo"
    assert type(plain) is AsyncFunctionTaskTemplate
    assert type(plain.override(plugin_config=EchoConfig("x"))) is EchoTask
    assert type(plugged.override(plugin_config=None)) is AsyncFunctionTaskTemplate
    assert run(plugged).outputs().o0 == 1


def test_init_with_storage_configures_flyte_storage():
    import flyte.storage
    from flyte.errors import InitializationError
    from flyte.runtime import init

    try:
        init(storage=flyte.storage.S3(endpoint="http://127.0.0.1:9", access_key_id="k", secret_access_key="s"))
        from flyte.storage._config import config_for

        assert config_for("s3").endpoint == "http://127.0.0.1:9"
        with pytest.raises(InitializationError, match=r"init\(storage=\.\.\.\)"):
            init(storage=[flyte.storage.S3(), flyte.storage.S3()])
    finally:
        init()
        flyte.storage.configure()


def test_files_a_task_writes_land_under_its_runs_raw_data_path(local_dirs):
    import flyte.io

    @env.task
    async def where() -> str:
        return flyte.io.raw_data_path()

    r = with_runcontext(raw_data_path=str(local_dirs / "raw-here")).run(where)
    assert r.outputs().o0 == str(local_dirs / "raw-here")
