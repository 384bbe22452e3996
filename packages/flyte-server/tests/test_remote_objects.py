"""``flyte.remote`` Run, Action and Task objects against the real server; deploy, then run a deployed
task by reference (``flyte.run(flyte.remote.Task.get(...))``)."""

from __future__ import annotations

import asyncio
import importlib
import sys
import textwrap
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from flyteidl2.common import identifier_pb2
from flyteidl2.task import common_pb2, task_definition_pb2
from flyteidl2.workflow import run_service_pb2

import flyte.errors
import flyte.remote
import flyte.runtime as fr
from flyte.remote import ClientSet
from flyte.runtime import _init
from flyte.types import TypeEngine

from .conftest import DOMAIN, PROJECT, Deployed, Server

WAIT_SECONDS = 90


async def start(clients: ClientSet, task: task_definition_pb2.TaskIdentifier, **values: tuple[Any, type]) -> str:
    inputs = common_pb2.Inputs()
    for name, (value, python_type) in values.items():
        literal = await TypeEngine.to_literal(value, python_type, TypeEngine.to_literal_type(python_type))
        inputs.literals.add(name=name, value=literal)
    response = await clients.run_service.CreateRun(
        run_service_pb2.CreateRunRequest(
            project_id=identifier_pb2.ProjectIdentifier(name=PROJECT, domain=DOMAIN), task_id=task, inputs=inputs
        )
    )
    return str(response.run.action.id.run.name)


@pytest.mark.asyncio
async def test_run_get_watch_details_and_url(remote, clients, deployed: Deployed):
    name = await start(clients, deployed.ids["add"], x=(2, int), y=(3, int))

    run = await flyte.remote.Run.get.aio(name)
    phases = [details.phase async for details in run.watch.aio()]
    details = await run.details.aio()

    assert phases[-1] == "SUCCEEDED"
    assert run.done()
    assert (await run.outputs.aio()).o0 == 5
    assert details.task_name == "srv.add"
    assert [a.phase for a in details.attempts] == ["SUCCEEDED"]
    assert details.runtime_seconds is not None
    assert run.url.endswith(f"/v2/runs/project/{PROJECT}/domain/{DOMAIN}/{name}")
    with pytest.raises(flyte.remote.RunNotFoundError, match="no-such-run"):
        await flyte.remote.Run.get.aio("no-such-run")


@pytest.mark.asyncio
async def test_run_listall_filters_by_phase_and_task_and_pages(remote, clients, deployed: Deployed):
    # The server is shared by the session: let the runs of earlier tests fall outside the window.
    await asyncio.sleep(1.2)
    started = time.time()
    good = [await start(clients, deployed.ids["add"], x=(i, int), y=(1, int)) for i in range(3)]
    bad = await start(clients, deployed.ids["boom"], x=(1, int))
    for name in [*good, bad]:
        await (await flyte.remote.Run.get.aio(name)).wait.aio(timeout=WAIT_SECONDS)

    recent = [r.name async for r in flyte.remote.Run.listall.aio(created_after=started - 1)]
    failed = [r.name async for r in flyte.remote.Run.listall.aio(in_phase="FAILED", created_after=started - 1)]
    adds = [r.name async for r in flyte.remote.Run.listall.aio(task_name="srv.add", created_after=started - 1)]
    oldest_first = [
        r.name async for r in flyte.remote.Run.listall.aio(created_after=started - 1, sort_by=("created_at", "asc"))
    ]
    two = [r.name async for r in flyte.remote.Run.listall.aio(limit=2)]

    assert set(recent) == {*good, bad}
    assert failed == [bad]
    assert set(adds) == set(good)
    assert oldest_first == [*good, bad]
    assert recent == oldest_first[::-1]
    assert len(two) == 2
    with pytest.raises(ValueError, match="unknown phase 'DONE'"):
        [r async for r in flyte.remote.Run.listall.aio(in_phase="DONE")]


@pytest.mark.asyncio
async def test_actions_of_a_run_their_attempts_and_errors(remote, clients, deployed: Deployed):
    fan = await start(clients, deployed.ids["fan"], n=(2, int))
    flaky = await start(clients, deployed.ids["flaky"], succeed_on=(1, int))
    boom = await start(clients, deployed.ids["boom"], x=(7, int))

    root = await flyte.remote.Action.get.aio(fan, "a0")
    final = await root.wait.aio(timeout=WAIT_SECONDS)
    actions = [a async for a in flyte.remote.Action.listall.aio(for_run_name=fan)]
    retried = await flyte.remote.ActionDetails.get.aio(flaky, "a0")
    retried = await retried.wait.aio(timeout=WAIT_SECONDS)
    failed = await (await flyte.remote.ActionDetails.get.aio(boom, "a0")).wait.aio(timeout=WAIT_SECONDS)

    assert final.phase == "SUCCEEDED"
    assert actions[0].name == "a0"
    assert actions[0].parent is None
    assert all(a.parent == "a0" for a in actions[1:])
    assert [a.phase for a in actions] == ["SUCCEEDED"] * len(actions)
    assert [(a.number, a.phase) for a in retried.attempts] == [(1, "FAILED"), (2, "SUCCEEDED")]
    assert isinstance(retried.attempts[0].error, flyte.errors.BaseRuntimeError)
    assert "attempt 0 fails" in str(retried.attempts[0].error)
    assert failed.phase == "FAILED"
    assert failed.error_info is not None
    with pytest.raises(flyte.errors.RetriesExhaustedError, match="cannot handle 7"):
        failed.raise_for_status()
    with pytest.raises(flyte.remote.RunNotFoundError):
        [a async for a in flyte.remote.Action.listall.aio(for_run_name="no-such-run")]


@pytest.mark.asyncio
async def test_an_action_aborted_while_it_runs(remote, clients, deployed: Deployed):
    name = await start(clients, deployed.ids["sleepy"], seconds=(30.0, float))
    action = await flyte.remote.Action.get.aio(name, "a0")
    async for details in action.watch.aio():
        if details.phase == "RUNNING":
            break

    await action.abort.aio("test says stop")
    final = await action.wait.aio(timeout=WAIT_SECONDS)

    assert final.phase == "ABORTED"
    assert final.abort_reason == "test says stop"
    with pytest.raises(flyte.errors.ActionAbortedError, match="test says stop"):
        final.raise_for_status()


@pytest.mark.asyncio
async def test_task_listall_and_get_by_version(remote, deployed: Deployed):
    names = {t.name async for t in flyte.remote.Task.listall.aio()}
    versions = [t.version async for t in flyte.remote.Task.listall.aio(by_task_name="srv.add")]
    details = await flyte.remote.Task.get("srv.add", version="v1").fetch.aio()

    assert {"srv.add", "srv.fan", "srv.boom"} <= names
    assert "v1" in versions
    assert (details.name, details.version, details.input_names()) == ("srv.add", "v1", ["x", "y"])
    with pytest.raises(flyte.errors.RemoteTaskNotFoundError, match=r"srv\.add.*v404"):
        await flyte.remote.Task.get("srv.add", version="v404").fetch.aio()
    with pytest.raises(flyte.errors.RemoteTaskNotFoundError, match=r"srv\.nothing"):
        await flyte.remote.Task.get("srv.nothing", auto_version="latest").fetch.aio()


def test_task_get_needs_a_version_or_latest(remote):
    with pytest.raises(ValueError, match="auto_version='latest'"):
        flyte.remote.Task.get("srv.add")
    with pytest.raises(ValueError, match="got both"):
        flyte.remote.Task.get("srv.add", version="v1", auto_version="latest")


REFERENCE_TASKS = textwrap.dedent(
    """
    from flyte.runtime import TaskEnvironment

    env = TaskEnvironment("ref")

    @env.task
    async def add(x: int, y: int = 10) -> int:
        return x + y
    """
)


@pytest.fixture
def reference_tasks(remote: Server, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[ModuleType]:
    """A tasks file of its own, and flyte.init pointing at the test server."""
    module = f"reftasks_{uuid.uuid4().hex[:8]}"
    (tmp_path / f"{module}.py").write_text(REFERENCE_TASKS)
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setattr(_init, "_state", None)
    fr.init(endpoint=remote.url, insecure=True, project=PROJECT, domain=DOMAIN, root_dir=tmp_path)
    try:
        yield importlib.import_module(module)
    finally:
        _init._state = None
        sys.modules.pop(module, None)


def test_deploy_then_run_the_latest_version_by_reference(reference_tasks, capfd: pytest.CaptureFixture[str]):
    suffix = uuid.uuid4().hex[:6]
    fr.deploy(reference_tasks.env, version=f"ref-1-{suffix}")
    fr.deploy(reference_tasks.env, version=f"ref-2-{suffix}")

    latest = flyte.remote.Task.get("ref.add", auto_version="latest")
    run = fr.run(latest, 5)
    assert isinstance(run, flyte.remote.Run)
    run.wait(timeout=WAIT_SECONDS, quiet=False)

    assert f"run {run.name}: SUCCEEDED (attempt 1)" in capfd.readouterr().err

    assert run.outputs().o0 == 15  # y took the deployed default
    assert latest.version == f"ref-2-{suffix}"
    assert run.details().task.task_template.id.version == f"ref-2-{suffix}"
    pinned = fr.run(flyte.remote.Task.get("ref.add", version=f"ref-1-{suffix}"), x=1, y=2).wait(timeout=WAIT_SECONDS)
    assert pinned.outputs().o0 == 3
    assert pinned.details().task.task_template.id.version == f"ref-1-{suffix}"


def test_running_a_reference_with_wrong_inputs_names_them(reference_tasks):
    fr.deploy(reference_tasks.env, version=f"ref-in-{uuid.uuid4().hex[:6]}")
    task = flyte.remote.Task.get("ref.add", auto_version="latest")
    with pytest.raises(flyte.errors.RemoteTaskUsageError, match="needs inputs x"):
        fr.run(task, y=1)
    with pytest.raises(flyte.errors.RemoteTaskUsageError, match="no input 'z'"):
        fr.run(task, 1, z=2)
    with pytest.raises(flyte.errors.RemoteTaskUsageError, match="takes 2 inputs"):
        fr.run(task, 1, 2, 3)
    with pytest.raises(flyte.errors.RemoteTaskNotFoundError, match=r"ref\.missing"):
        fr.run(flyte.remote.Task.get("ref.missing", auto_version="latest"), 1)


@pytest.mark.asyncio
async def test_upload_dir_keeps_the_layout_and_the_same_content_lands_in_the_same_place(remote, tmp_path: Path):
    folder = tmp_path / "data"
    (folder / "nested" / "deeper").mkdir(parents=True)
    (folder / "top.txt").write_text("top")
    (folder / "nested" / "deeper" / "leaf.bin").write_bytes(b"\x00\x01")

    uri = await flyte.remote.upload_dir.aio(folder)

    stored = Path(uri.removeprefix("file://"))
    assert (stored / "top.txt").read_text() == "top"
    assert (stored / "nested" / "deeper" / "leaf.bin").read_bytes() == b"\x00\x01"
    assert await flyte.remote.upload_dir.aio(folder) == uri
    (folder / "top.txt").write_text("changed")
    assert await flyte.remote.upload_dir.aio(folder) != uri
