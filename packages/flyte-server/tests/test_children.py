"""Child actions end to end: a task calling tasks inside a run, each child a real ``a0`` process
the server runs, reached through QueueService.EnqueueAction and StateService.Watch.

The tasks live in a small project written to a temporary folder, bundled and deployed with the
SDK's own task specs (so children are enqueued with exactly the specs a deployed parent makes).
"""

from __future__ import annotations

import asyncio
import importlib
import os
import signal
import sys
import textwrap
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
from flyteidl2.common import identifier_pb2, phase_pb2
from flyteidl2.dataproxy import dataproxy_service_pb2
from flyteidl2.task import task_definition_pb2, task_service_pb2
from flyteidl2.workflow import run_definition_pb2, run_service_pb2

from flyte.remote import ClientSet, Session
from flyte.runtime._bundle import build_tgz_bundle
from flyte.runtime._deploy import task_spec

from .conftest import DOMAIN, PROJECT, Server, start_server, stop_server, upload
from .test_runs import create_run, inputs, outputs

pytestmark = pytest.mark.asyncio
WAIT_SECONDS = 120
MODULE = "kidtasks"
ACTIVE = (
    phase_pb2.ACTION_PHASE_QUEUED,
    phase_pb2.ACTION_PHASE_WAITING_FOR_RESOURCES,
    phase_pb2.ACTION_PHASE_INITIALIZING,
    phase_pb2.ACTION_PHASE_RUNNING,
)

TASKS = textwrap.dedent(
    """
    import asyncio
    import os
    import time
    from pathlib import Path

    import flyte.errors
    from flyte.runtime import TaskEnvironment, trace

    env = TaskEnvironment("kids")


    def _mark(path: str, line: str) -> None:
        with open(path, "a") as f:
            f.write(line + "\\n")


    @env.task
    async def square(x: int) -> int:
        return x * x


    @env.task
    async def fan(n: int) -> int:
        return sum(await asyncio.gather(*(square(i) for i in range(n))))


    @env.task
    async def nested(n: int) -> int:
        return sum(await asyncio.gather(*(fan(k) for k in range(1, n + 1))))


    @env.task
    async def deep(n: int) -> int:
        return await nested(n)


    @env.task
    async def meet(folder: str, i: int, n: int) -> bool:
        # Arrive, then wait for the others: only children running at the same time all meet.
        Path(folder, str(i)).touch()
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if len(os.listdir(folder)) == n:
                return True
            await asyncio.sleep(0.05)
        return False


    @env.task
    async def overlap(folder: str, n: int) -> list[bool]:
        return list(await asyncio.gather(*(meet(folder, i, n) for i in range(n))))


    @env.task
    def boom(x: int) -> int:
        raise ValueError(f"cannot handle {x}")


    @env.task
    async def catcher(x: int) -> str:
        try:
            await boom.aio(x)
        except ValueError as e:
            return f"caught {type(e).__name__}: {e}"
        return "not raised"


    @env.task(retries=2)
    def flaky(path: str) -> int:
        attempt = int(os.environ["FLYTE_ATTEMPT_NUMBER"])
        _mark(path, str(attempt))
        if attempt < 2:
            raise RuntimeError(f"attempt {attempt} fails")
        return attempt


    @env.task
    async def retrying(path: str) -> int:
        return await flaky.aio(path)


    @env.task(timeout=1)
    async def slow(seconds: float) -> str:
        await asyncio.sleep(seconds)
        return "finished"


    @env.task
    async def patient(seconds: float) -> str:
        try:
            return await slow(seconds)
        except flyte.errors.TaskTimeoutError as e:
            return f"timed out: {type(e).__name__}"


    @env.task
    async def sleeper(seconds: float) -> str:
        await asyncio.sleep(seconds)
        return "woke up"


    @env.task
    async def sleepers(seconds: float) -> list[str]:
        return list(await asyncio.gather(sleeper(seconds), sleeper(seconds + 0.001)))


    @env.task
    def sync_parent(x: int) -> str:
        # A sync task calls children from its worker thread (through the controller's loop).
        try:
            boom(x)
        except ValueError as e:
            return f"{square(x)} {e}"
        return "not raised"


    @env.task
    async def impatient(seconds: float) -> str:
        try:
            return await asyncio.wait_for(sleeper(seconds), 3)
        except asyncio.TimeoutError:
            return "gave up"


    @trace
    async def stamp(path: str, word: str) -> str:
        _mark(path, word)
        return word.upper()


    @env.task(retries=1)
    async def traced(path: str) -> str:
        first = await stamp(path, "one")
        second = await stamp(path, "two")
        if int(os.environ["FLYTE_ATTEMPT_NUMBER"]) == 0:
            raise RuntimeError("the first attempt fails after its traces")
        return first + second


    @trace
    def stamp_sync(path: str, word: str) -> str:
        _mark(path, word)
        return word.upper()


    @env.task(retries=1)
    def traced_sync(path: str) -> str:
        # Traced calls from a sync task's worker thread.
        first = stamp_sync(path, "one")
        second = stamp_sync(path, "two")
        if int(os.environ["FLYTE_ATTEMPT_NUMBER"]) == 0:
            raise RuntimeError("the first attempt fails after its traces")
        return first + second


    @env.task
    async def tick(folder: str, i: int) -> int:
        _mark(os.path.join(folder, str(i)), "ran")
        await asyncio.sleep(1.0)
        return i


    @env.task
    async def durable(folder: str, n: int) -> int:
        return sum(await asyncio.gather(*(tick(folder, i) for i in range(n))))
    """
)
PARENTS = (
    "square", "fan", "nested", "deep", "meet", "overlap", "boom", "catcher", "flaky", "retrying", "slow",
    "patient", "sleeper", "sleepers", "sync_parent", "impatient", "traced", "traced_sync", "tick", "durable",
)  # fmt: skip


@dataclass(frozen=True)
class Project:
    folder: Path
    bundle: Path


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Project]:
    folder = tmp_path_factory.mktemp("kids")
    (folder / f"{MODULE}.py").write_text(TASKS)
    bundle = build_tgz_bundle(folder, tmp_path_factory.mktemp("kid-bundles")).path
    sys.path.insert(0, str(folder))
    try:
        yield Project(folder, bundle)
    finally:
        sys.path.remove(str(folder))
        sys.modules.pop(MODULE, None)


async def deploy(clients: ClientSet, server: Server, project: Project) -> dict[str, task_definition_pb2.TaskIdentifier]:
    """Upload the bundle and deploy every task with the SDK's own specs; name -> task id."""
    module = importlib.import_module(MODULE)
    uri = await upload(clients, project.bundle)
    session = Session(server.address, insecure=True, project=PROJECT, domain=DOMAIN)
    ids = {}
    for name in PARENTS:
        spec = await task_spec(
            getattr(module, name), session, bundle_uri=uri, module=MODULE, variable=name, version="k1"
        )
        await clients.task_service.DeployTask(
            task_service_pb2.DeployTaskRequest(task_id=spec.task_id.to_proto(), spec=spec.to_proto())
        )
        ids[name] = spec.task_id.to_proto()
    return ids


@dataclass(frozen=True)
class Env:
    server: Server
    clients: ClientSet
    ids: dict[str, task_definition_pb2.TaskIdentifier]


_ids: dict[str, task_definition_pb2.TaskIdentifier] = {}


@pytest.fixture(scope="module")
def kid_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    # Three slots: `deep` nests four levels, so it finishes only if waiting parents lend theirs.
    running = start_server(tmp_path_factory.mktemp("kid-server") / "data", max_concurrency=3)
    try:
        yield running
    finally:
        stop_server(running)


@pytest_asyncio.fixture
async def env(kid_server: Server, project: Project) -> AsyncIterator[Env]:
    async with ClientSet(kid_server.address, insecure=True, rpc_retries=1) as clients:
        if not _ids:
            _ids.update(await deploy(clients, kid_server, project))
        yield Env(kid_server, clients, _ids)


async def finish(clients: ClientSet, action: identifier_pb2.ActionIdentifier) -> run_definition_pb2.ActionDetails:
    """Watch ``action`` until it ends; its final details."""
    last = None

    async def follow() -> None:
        nonlocal last
        request = run_service_pb2.WatchActionDetailsRequest(action_id=action)
        async for response in clients.run_service.WatchActionDetails(request):
            last = response.details

    await asyncio.wait_for(follow(), WAIT_SECONDS)
    assert last is not None
    return last


async def actions(clients: ClientSet, action: identifier_pb2.ActionIdentifier) -> list[run_definition_pb2.Action]:
    response = await clients.run_service.ListActions(run_service_pb2.ListActionsRequest(run_id=action.run))
    return list(response.actions)


def phase(details: Any) -> str:
    return phase_pb2.ActionPhase.Name(details.status.phase)


async def run_to_end(env: Env, task: str, **values: tuple[Any, type]) -> tuple[Any, Any]:
    action = await create_run(env.clients, env.ids[task], inputs(**values))
    return action, await finish(env.clients, action)


async def test_children_and_grandchildren_are_actions_of_the_run(env: Env):
    action, final = await run_to_end(env, "deep", n=(3, int))
    assert phase(final) == "ACTION_PHASE_SUCCEEDED", final.error_info
    # fan(1) + fan(2) + fan(3) = 0 + 1 + (1 + 4)
    assert await outputs(env.clients, action, int) == {"o0": 6}
    listed = await actions(env.clients, action)
    by_name = {a.id.name: a for a in listed}
    # deep -> nested -> 3 x fan -> 0 + 1 + 2 + 3 squares... 1 + 1 + 3 + (1 + 2 + 3) = 11 actions
    assert len(listed) == 11
    assert all(a.status.phase == phase_pb2.ACTION_PHASE_SUCCEEDED for a in listed)
    nested = [a for a in listed if a.metadata.task.id.name == "kids.nested"]
    assert len(nested) == 1
    assert nested[0].metadata.parent == "a0"
    fans = [a for a in listed if a.metadata.parent == nested[0].id.name]
    assert sorted(a.metadata.task.id.name for a in fans) == ["kids.fan"] * 3
    squares = [a for a in listed if a.metadata.task.id.name == "kids.square"]
    assert {by_name[a.metadata.parent].metadata.task.id.name for a in squares} == {"kids.fan"}
    child = await env.clients.run_service.GetActionDetails(
        run_service_pb2.GetActionDetailsRequest(action_id=squares[0].id)
    )
    assert child.details.attempts[0].outputs.output_uri.endswith("/1")


async def test_gathered_children_run_at_the_same_time(env: Env, tmp_path: Path):
    action, final = await run_to_end(env, "overlap", folder=(str(tmp_path), str), n=(3, int))
    assert phase(final) == "ACTION_PHASE_SUCCEEDED", final.error_info
    # Each child waited for all three to have started: run one by one, none would have met.
    assert await outputs(env.clients, action, list[bool]) == {"o0": [True, True, True]}


async def test_a_failing_child_is_caught_by_the_parent(env: Env):
    action, final = await run_to_end(env, "catcher", x=(7, int))
    assert phase(final) == "ACTION_PHASE_SUCCEEDED", final.error_info
    assert await outputs(env.clients, action, str) == {"o0": "caught ValueError: cannot handle 7"}
    failed = [a for a in await actions(env.clients, action) if a.metadata.task.id.name == "kids.boom"]
    assert [a.status.phase for a in failed] == [phase_pb2.ACTION_PHASE_FAILED]


async def test_a_sync_task_calls_children_from_its_thread(env: Env):
    action, final = await run_to_end(env, "sync_parent", x=(5, int))
    assert phase(final) == "ACTION_PHASE_SUCCEEDED", final.error_info
    assert await outputs(env.clients, action, str) == {"o0": "25 cannot handle 5"}
    names = sorted(a.metadata.task.id.name for a in await actions(env.clients, action) if a.metadata.parent)
    assert names == ["kids.boom", "kids.square"]


async def test_a_child_the_parent_stops_waiting_for_is_aborted(env: Env):
    action, final = await run_to_end(env, "impatient", seconds=(120.0, float))
    assert phase(final) == "ACTION_PHASE_SUCCEEDED", final.error_info
    assert await outputs(env.clients, action, str) == {"o0": "gave up"}

    async def child_ended() -> run_definition_pb2.Action:
        while True:
            (child,) = [a for a in await actions(env.clients, action) if a.metadata.parent]
            if child.status.phase not in ACTIVE:
                return child
            await asyncio.sleep(0.2)

    child = await asyncio.wait_for(child_ended(), WAIT_SECONDS)
    assert child.status.phase == phase_pb2.ACTION_PHASE_ABORTED
    details = await env.clients.run_service.GetActionDetails(
        run_service_pb2.GetActionDetailsRequest(action_id=child.id)
    )
    assert "stopped waiting" in details.details.abort_info.reason


async def test_a_child_is_retried_by_the_server(env: Env, tmp_path: Path):
    marks = tmp_path / "flaky"
    action, final = await run_to_end(env, "retrying", path=(str(marks), str))
    assert phase(final) == "ACTION_PHASE_SUCCEEDED", final.error_info
    assert await outputs(env.clients, action, int) == {"o0": 2}
    assert marks.read_text().split() == ["0", "1", "2"]
    child = next(a for a in await actions(env.clients, action) if a.metadata.task.id.name == "kids.flaky")
    assert child.status.attempts == 3


async def test_a_child_that_runs_too_long_times_out_and_the_parent_sees_it(env: Env):
    action, final = await run_to_end(env, "patient", seconds=(30.0, float))
    assert phase(final) == "ACTION_PHASE_SUCCEEDED", final.error_info
    assert await outputs(env.clients, action, str) == {"o0": "timed out: MaxRuntimeExceededError"}
    child = next(a for a in await actions(env.clients, action) if a.metadata.task.id.name == "kids.slow")
    assert child.status.phase == phase_pb2.ACTION_PHASE_TIMED_OUT


async def test_aborting_a_run_aborts_its_running_children(env: Env):
    action = await create_run(env.clients, env.ids["sleepers"], inputs(seconds=(120.0, float)))

    async def children_running() -> list[run_definition_pb2.Action]:
        while True:
            running = [
                a
                for a in await actions(env.clients, action)
                if a.metadata.parent and a.status.phase == phase_pb2.ACTION_PHASE_RUNNING
            ]
            if len(running) == 2:
                return running
            await asyncio.sleep(0.2)

    await asyncio.wait_for(children_running(), WAIT_SECONDS)
    await env.clients.run_service.AbortRun(run_service_pb2.AbortRunRequest(run_id=action.run, reason="enough"))
    final = await finish(env.clients, action)
    assert phase(final) == "ACTION_PHASE_ABORTED"
    assert final.abort_info.reason == "enough"

    async def children_ended() -> list[run_definition_pb2.Action]:
        # The children are killed (SIGTERM, then SIGKILL after a grace) after their parent ends.
        while True:
            children = [a for a in await actions(env.clients, action) if a.metadata.parent]
            if all(a.status.phase not in ACTIVE for a in children):
                return children
            await asyncio.sleep(0.2)

    children = await asyncio.wait_for(children_ended(), WAIT_SECONDS)
    assert [c.status.phase for c in children] == [phase_pb2.ACTION_PHASE_ABORTED] * 2


@pytest.mark.parametrize("task", ["traced", "traced_sync"])
async def test_traces_are_recorded_and_replayed_on_retry(env: Env, tmp_path: Path, task: str):
    marks = tmp_path / "traces"
    action, final = await run_to_end(env, task, path=(str(marks), str))
    assert phase(final) == "ACTION_PHASE_SUCCEEDED", final.error_info
    assert len(final.attempts) == 2
    assert await outputs(env.clients, action, str) == {"o0": "ONETWO"}
    # The second attempt replayed both traced calls instead of making them again.
    assert marks.read_text().split() == ["one", "two"]
    traces = [
        a for a in await actions(env.clients, action) if a.metadata.action_type == run_definition_pb2.ACTION_TYPE_TRACE
    ]
    assert {a.metadata.trace.name for a in traces} == {"stamp" if task == "traced" else "stamp_sync"}
    assert len(traces) == 2
    assert all(a.status.phase == phase_pb2.ACTION_PHASE_SUCCEEDED for a in traces)
    assert len(await actions(env.clients, action)) == 3  # a0 and its two traces


async def test_after_a_kill_9_the_run_finishes_and_finished_children_do_not_run_again(tmp_path: Path, project: Project):
    data, folder = tmp_path / "data", tmp_path / "ticks"
    folder.mkdir()
    n = 6
    first = start_server(data, max_concurrency=2)
    try:
        async with ClientSet(first.address, insecure=True, rpc_retries=1) as clients:
            ids = await deploy(clients, first, project)
            action = await create_run(clients, ids["durable"], inputs(folder=(str(folder), str), n=(n, int)))

            async def some_done() -> set[str]:
                while True:
                    done = {
                        a.id.name
                        for a in await actions(clients, action)
                        if a.metadata.parent and a.status.phase == phase_pb2.ACTION_PHASE_SUCCEEDED
                    }
                    if len(done) >= 2:
                        return done
                    await asyncio.sleep(0.1)

            done_before = await asyncio.wait_for(some_done(), WAIT_SECONDS)
    finally:
        os.kill(first.process.pid, signal.SIGKILL)
        first.process.wait()
    second = start_server(data, max_concurrency=2)
    try:
        async with ClientSet(second.address, insecure=True, rpc_retries=1) as clients:
            final = await finish(clients, action)
            assert phase(final) == "ACTION_PHASE_SUCCEEDED", final.error_info
            assert await outputs(clients, action, int) == {"o0": sum(range(n))}
            children = [a for a in await actions(clients, action) if a.metadata.parent]
            assert len(children) == n
            index_of = {}
            for child in children:
                data_of = await clients.dataproxy_service.GetActionData(
                    dataproxy_service_pb2.GetActionDataRequest(action_id=child.id)
                )
                values = {v.name: v.value.scalar.primitive.integer for v in data_of.inputs.literals if v.name == "i"}
                index_of[child.id.name] = values["i"]
    finally:
        stop_server(second)
    # The parent ran again after the restart; every child ran, and those that had succeeded
    # before the kill were taken from the record instead of running a second time.
    assert len(final.attempts) == 2
    runs = {int(p.name): p.read_text().count("ran") for p in folder.iterdir()}
    assert sorted(runs) == list(range(n))
    for name in done_before:
        assert runs[index_of[name]] == 1, (name, runs)
