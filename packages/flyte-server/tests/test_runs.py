"""Runs end to end: deploy, CreateRun with inputs, watch to a terminal phase, read outputs.

Each action is a real ``a0`` process started by the server under test.
"""

from __future__ import annotations

import asyncio
from typing import Any

import grpc
import pytest
from flyteidl2.common import identifier_pb2, list_pb2, phase_pb2
from flyteidl2.core import literals_pb2
from flyteidl2.dataproxy import dataproxy_service_pb2
from flyteidl2.task import common_pb2, run_pb2, task_definition_pb2
from flyteidl2.workflow import run_definition_pb2, run_service_pb2

from flyte.remote import ClientSet
from flyte.types import TypeEngine

from .conftest import DOMAIN, PROJECT, Deployed

pytestmark = pytest.mark.asyncio
WAIT_SECONDS = 60


def inputs(**values: tuple[Any, type]) -> common_pb2.Inputs:
    message = common_pb2.Inputs()
    for name, (value, python_type) in values.items():
        literal = TypeEngine.to_literal_sync(value, python_type, TypeEngine.to_literal_type(python_type))
        message.literals.add(name=name, value=literal)
    return message


async def create_run(
    clients: ClientSet, task: task_definition_pb2.TaskIdentifier, message: common_pb2.Inputs
) -> identifier_pb2.ActionIdentifier:
    response = await clients.run_service.CreateRun(
        run_service_pb2.CreateRunRequest(
            project_id=identifier_pb2.ProjectIdentifier(name=PROJECT, domain=DOMAIN), task_id=task, inputs=message
        )
    )
    return response.run.action.id  # type: ignore[no-any-return]


async def watch(clients: ClientSet, action: identifier_pb2.ActionIdentifier) -> list[run_definition_pb2.ActionDetails]:
    """Every state WatchActionDetails sends, until the stream ends at a terminal phase."""
    seen = []

    async def follow() -> None:
        stream = clients.run_service.WatchActionDetails(run_service_pb2.WatchActionDetailsRequest(action_id=action))
        async for response in stream:
            seen.append(response.details)

    await asyncio.wait_for(follow(), WAIT_SECONDS)
    return seen


async def outputs(clients: ClientSet, action: identifier_pb2.ActionIdentifier, python_type: type) -> dict[str, Any]:
    data = await clients.dataproxy_service.GetActionData(dataproxy_service_pb2.GetActionDataRequest(action_id=action))
    return {n.name: TypeEngine.to_python_value_sync(n.value, python_type) for n in data.outputs.literals}


async def test_a_run_is_watched_to_success_and_its_outputs_are_read(clients, deployed: Deployed):
    action = await create_run(clients, deployed.ids["add"], inputs(x=(40, int), y=(2, int)))
    states = await watch(clients, action)
    assert states[-1].status.phase == phase_pb2.ACTION_PHASE_SUCCEEDED
    phases = [s.status.phase for s in states]
    # Forward only: QUEUED < INITIALIZING < RUNNING < SUCCEEDED as numbers.
    assert phases == sorted(phases)
    assert await outputs(clients, action, int) == {"o0": 42}
    data = await clients.dataproxy_service.GetActionData(dataproxy_service_pb2.GetActionDataRequest(action_id=action))
    assert {n.name for n in data.inputs.literals} == {"x", "y"}
    assert data.outputs_uri.endswith("/a0/1/outputs.pb")


async def test_children_run_inside_the_action(clients, deployed: Deployed):
    action = await create_run(clients, deployed.ids["fan"], inputs(n=(3, int)))
    assert (await watch(clients, action))[-1].status.phase == phase_pb2.ACTION_PHASE_SUCCEEDED
    assert await outputs(clients, action, list[int]) == {"o0": [1, 2, 3]}


async def test_a_failing_task_fails_the_run_with_its_error_after_its_retries(clients, deployed: Deployed):
    action = await create_run(clients, deployed.ids["boom"], inputs(x=(7, int)))
    final = (await watch(clients, action))[-1]
    assert final.status.phase == phase_pb2.ACTION_PHASE_FAILED
    assert final.error_info.code == "RetriesExhausted|ValueError"
    assert "cannot handle 7" in final.error_info.message
    assert final.error_info.kind == run_definition_pb2.ErrorInfo.KIND_USER
    # boom has retries=1: two attempts, each failed with the task's error.
    assert [a.phase for a in final.attempts] == [phase_pb2.ACTION_PHASE_FAILED] * 2
    assert all(a.error_info.code == "ValueError" for a in final.attempts)
    assert await outputs(clients, action, int) == {}


async def test_a_task_is_retried_until_an_attempt_succeeds(clients, deployed: Deployed):
    action = await create_run(clients, deployed.ids["flaky"], inputs(succeed_on=(2, int)))
    final = (await watch(clients, action))[-1]
    assert final.status.phase == phase_pb2.ACTION_PHASE_SUCCEEDED
    assert [a.phase for a in final.attempts] == [
        phase_pb2.ACTION_PHASE_FAILED,
        phase_pb2.ACTION_PHASE_FAILED,
        phase_pb2.ACTION_PHASE_SUCCEEDED,
    ]
    assert await outputs(clients, action, int) == {"o0": 2}


async def test_an_attempt_over_its_time_limit_is_killed_and_the_action_times_out(clients, deployed: Deployed):
    action = await create_run(clients, deployed.ids["sleepy"], inputs(seconds=(120.0, float)))
    final = (await watch(clients, action))[-1]
    assert final.status.phase == phase_pb2.ACTION_PHASE_TIMED_OUT
    assert [a.phase for a in final.attempts] == [phase_pb2.ACTION_PHASE_TIMED_OUT] * 2
    assert "MaxRuntimeExceededError" in final.error_info.code
    # Two attempts of at most 3 s each, not the two minutes the task asked for.
    assert final.status.duration_ms < 30_000


async def test_abort_kills_a_running_action(clients, deployed: Deployed):
    action = await create_run(clients, deployed.ids["sleepy"], inputs(seconds=(120.0, float)))

    async def running() -> None:
        stream = clients.run_service.WatchActionDetails(run_service_pb2.WatchActionDetailsRequest(action_id=action))
        async for response in stream:
            if response.details.status.phase == phase_pb2.ACTION_PHASE_RUNNING:
                return

    await asyncio.wait_for(running(), WAIT_SECONDS)
    await clients.run_service.AbortRun(run_service_pb2.AbortRunRequest(run_id=action.run, reason="enough"))
    final = (await watch(clients, action))[-1]
    assert final.status.phase == phase_pb2.ACTION_PHASE_ABORTED
    assert final.abort_info.reason == "enough"
    assert len(final.attempts) == 1
    # Aborting again changes nothing.
    await clients.run_service.AbortRun(run_service_pb2.AbortRunRequest(run_id=action.run, reason="again"))
    again = await clients.run_service.GetActionDetails(run_service_pb2.GetActionDetailsRequest(action_id=action))
    assert again.details.abort_info.reason == "enough"


async def test_runs_and_actions_are_listed_with_filters_and_pages(clients, deployed: Deployed):
    first = await create_run(clients, deployed.ids["add"], inputs(x=(1, int), y=(1, int)))
    second = await create_run(clients, deployed.ids["add"], inputs(x=(2, int), y=(2, int)))
    await watch(clients, first)
    await watch(clients, second)
    project = identifier_pb2.ProjectIdentifier(name=PROJECT, domain=DOMAIN)
    page = await clients.run_service.ListRuns(
        run_service_pb2.ListRunsRequest(project_id=project, request=list_pb2.ListRequest(limit=1))
    )
    assert [r.action.id.run.name for r in page.runs] == [second.run.name]  # newest first
    assert page.token
    page2 = await clients.run_service.ListRuns(
        run_service_pb2.ListRunsRequest(project_id=project, request=list_pb2.ListRequest(limit=1, token=page.token))
    )
    assert [r.action.id.run.name for r in page2.runs] == [first.run.name]
    succeeded = list_pb2.Filter(
        function=list_pb2.Filter.VALUE_IN, field="phase", values=[str(phase_pb2.ACTION_PHASE_SUCCEEDED)]
    )
    listed = await clients.run_service.ListRuns(
        run_service_pb2.ListRunsRequest(project_id=project, request=list_pb2.ListRequest(filters=[succeeded]))
    )
    names = [r.action.id.run.name for r in listed.runs]
    assert {first.run.name, second.run.name} <= set(names)
    assert all(r.action.status.phase == phase_pb2.ACTION_PHASE_SUCCEEDED for r in listed.runs)
    actions = await clients.run_service.ListActions(run_service_pb2.ListActionsRequest(run_id=first.run))
    assert [a.id.name for a in actions.actions] == ["a0"]
    details = await clients.run_service.GetRunDetails(run_service_pb2.GetRunDetailsRequest(run_id=first.run))
    assert details.details.action.status.phase == phase_pb2.ACTION_PHASE_SUCCEEDED
    assert details.details.action.task.task_template.id.name == "srv.add"


async def test_inputs_offloaded_with_upload_inputs_reach_the_task(clients, deployed: Deployed):
    project = identifier_pb2.ProjectIdentifier(name=PROJECT, domain=DOMAIN)
    uploaded = await clients.dataproxy_service.UploadInputs(
        dataproxy_service_pb2.UploadInputsRequest(
            project_id=project, task_id=deployed.ids["add"], inputs=inputs(x=(5, int), y=(6, int))
        )
    )
    assert uploaded.offloaded_input_data.inputs_hash
    response = await clients.run_service.CreateRun(
        run_service_pb2.CreateRunRequest(
            run_id=identifier_pb2.RunIdentifier(project=PROJECT, domain=DOMAIN, name="offloaded-inputs"),
            task_id=deployed.ids["add"],
            offloaded_input_data=uploaded.offloaded_input_data,
        )
    )
    action = response.run.action.id
    assert (await watch(clients, action))[-1].status.phase == phase_pb2.ACTION_PHASE_SUCCEEDED
    assert await outputs(clients, action, int) == {"o0": 11}


async def test_tasks_see_the_task_and_run_environment_and_the_a0_contract(clients, deployed: Deployed):
    envs = run_pb2.Envs(values=[literals_pb2.KeyValuePair(key="SHADOWED", value="run")])
    names = ["FROM_TASK", "SHADOWED", "RUN_NAME", "ACTION_NAME", "FLYTE_INTERNAL_EXECUTION_PROJECT", "_U_RUN_BASE"]
    response = await clients.run_service.CreateRun(
        run_service_pb2.CreateRunRequest(
            project_id=identifier_pb2.ProjectIdentifier(name=PROJECT, domain=DOMAIN),
            task_id=deployed.ids["getenv"],
            inputs=inputs(names=(names, list[str])),
            run_spec=run_pb2.RunSpec(envs=envs),
        )
    )
    action = response.run.action.id
    assert (await watch(clients, action))[-1].status.phase == phase_pb2.ACTION_PHASE_SUCCEEDED
    seen = (await outputs(clients, action, dict[str, str]))["o0"]
    assert seen["FROM_TASK"] == "task"
    assert seen["SHADOWED"] == "run"  # the run's environment wins over the task's
    assert seen["RUN_NAME"] == action.run.name
    assert seen["ACTION_NAME"] == "a0"
    assert seen["FLYTE_INTERNAL_EXECUTION_PROJECT"] == PROJECT
    assert seen["_U_RUN_BASE"].endswith(f"/{PROJECT}/{DOMAIN}/{action.run.name}")


async def test_a_run_name_is_used_once(clients, deployed: Deployed):
    run_id = identifier_pb2.RunIdentifier(project=PROJECT, domain=DOMAIN, name="only-once")
    request = run_service_pb2.CreateRunRequest(
        run_id=run_id, task_id=deployed.ids["add"], inputs=inputs(x=(1, int), y=(2, int))
    )
    await clients.run_service.CreateRun(request)
    with pytest.raises(grpc.aio.AioRpcError) as e:
        await clients.run_service.CreateRun(request)
    assert e.value.code() == grpc.StatusCode.ALREADY_EXISTS


async def test_a_stream_keeps_delivering_after_a_thousand_calls_on_its_connection(server, deployed: Deployed):
    # One HTTP/2 connection carries a parent's Watch and every EnqueueAction of a big fan-out;
    # hypercorn's default closes a connection after 1000 requests, and an open stream on it then
    # went silent: the parent waited forever. Its own channel, so the request count is exact.
    async with ClientSet(server.address, insecure=True) as own:
        # Two attempts of `sleepy` killed at their 3 s limit: >= 6 s of watching.
        action = await create_run(own, deployed.ids["sleepy"], inputs(seconds=(30.0, float)))
        get = run_service_pb2.GetActionDetailsRequest(action_id=action)
        phases: list[int] = []

        async def follow() -> None:
            stream = own.run_service.WatchActionDetails(run_service_pb2.WatchActionDetailsRequest(action_id=action))
            async for response in stream:
                phases.append(response.details.status.phase)

        watching = asyncio.ensure_future(asyncio.wait_for(follow(), WAIT_SECONDS))
        for _ in range(1100):
            await own.run_service.GetActionDetails(get)
        if watching.done():
            watching.result()  # raises the stream's own error if it broke
            pytest.fail("the action ended before the calls did: make it sleep longer")
        await watching
    assert phases[-1] == phase_pb2.ACTION_PHASE_TIMED_OUT
