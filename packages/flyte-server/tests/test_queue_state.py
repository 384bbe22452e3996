"""QueueService and StateService spoken directly, as a task's controller (ours or flyte 2.12.1's) does:
EnqueueAction of tasks and traces, idempotent re-enqueue, AbortQueuedAction, and the Watch stream
(replay, sentinel, live updates), plus the requests that must be refused without changing anything.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import grpc
import pytest
from flyteidl2.common import identifier_pb2, phase_pb2
from flyteidl2.task import common_pb2, task_definition_pb2, task_service_pb2
from flyteidl2.workflow import queue_service_pb2, run_definition_pb2, run_service_pb2, state_service_pb2

from flyte.remote import ClientSet

from .conftest import DOMAIN, PROJECT, Deployed, Server
from .test_runs import create_run, inputs

pytestmark = pytest.mark.asyncio
WAIT_SECONDS = 60


async def running_parent(clients: ClientSet, deployed: Deployed) -> identifier_pb2.ActionIdentifier:
    """A run whose root action sleeps long enough to have children enqueued under it."""
    action = await create_run(clients, deployed.ids["sleepy"], inputs(seconds=(20.0, float)))

    async def running() -> None:
        request = run_service_pb2.WatchActionDetailsRequest(action_id=action)
        async for response in clients.run_service.WatchActionDetails(request):
            if response.details.status.phase == phase_pb2.ACTION_PHASE_RUNNING:
                return

    await asyncio.wait_for(running(), WAIT_SECONDS)
    return action


def run_base(server: Server, action: identifier_pb2.ActionIdentifier) -> Path:
    return server.data_dir / "runs" / "_" / PROJECT / DOMAIN / action.run.name


async def add_child(
    clients: ClientSet, server: Server, deployed: Deployed, parent: identifier_pb2.ActionIdentifier, name: str, x: int
) -> queue_service_pb2.EnqueueActionRequest:
    base = run_base(server, parent)
    (base / name).mkdir(parents=True, exist_ok=True)
    (base / name / "inputs.pb").write_bytes(inputs(x=(x, int), y=(1, int)).SerializeToString())
    details = await clients.task_service.GetTaskDetails(_task_request(deployed.ids["add"]))
    request = queue_service_pb2.EnqueueActionRequest(
        action_id=identifier_pb2.ActionIdentifier(run=parent.run, name=name),
        parent_action_name=parent.name,
        input_uri=str(base / name / "inputs.pb"),
        run_output_base=str(base),
        task=run_definition_pb2.TaskAction(id=deployed.ids["add"], spec=details.details.spec),
    )
    await clients.queue_service.EnqueueAction(request)
    return request


def _task_request(task_id: task_definition_pb2.TaskIdentifier) -> task_service_pb2.GetTaskDetailsRequest:
    return task_service_pb2.GetTaskDetailsRequest(task_id=task_id)


async def updates_until_terminal(
    clients: ClientSet, parent: identifier_pb2.ActionIdentifier, name: str
) -> list[state_service_pb2.WatchResponse]:
    seen: list[state_service_pb2.WatchResponse] = []

    async def follow() -> None:
        stream = clients.state_service.Watch(state_service_pb2.WatchRequest(parent_action_id=parent))
        async for response in stream:
            seen.append(response)
            update = response.action_update
            if update.action_id.name == name and update.phase == phase_pb2.ACTION_PHASE_SUCCEEDED:
                stream.cancel()
                return

    await asyncio.wait_for(follow(), WAIT_SECONDS)
    return seen


async def test_a_child_runs_and_the_watch_replays_then_follows_it(clients, server: Server, deployed: Deployed):
    parent = await running_parent(clients, deployed)
    request = await add_child(clients, server, deployed, parent, "child1", 41)
    seen = await updates_until_terminal(clients, parent, "child1")
    sentinels = [i for i, r in enumerate(seen) if r.HasField("control_message")]
    assert len(sentinels) == 1
    assert seen[sentinels[0]].control_message.sentinel
    final = seen[-1].action_update
    assert final.output_uri.endswith("/child1/1")
    written = Path(final.output_uri.removeprefix("file://"), "outputs.pb")
    outputs = common_pb2.Outputs.FromString(await asyncio.to_thread(written.read_bytes))
    assert outputs.literals[0].value.scalar.primitive.integer == 42

    # A second watch replays the finished child before its sentinel.
    replay: list[state_service_pb2.WatchResponse] = []
    stream = clients.state_service.Watch(state_service_pb2.WatchRequest(parent_action_id=parent))
    async for response in stream:
        replay.append(response)
        if response.HasField("control_message"):
            stream.cancel()
            break
    assert [r.action_update.action_id.name for r in replay[:-1]] == ["child1"]
    assert replay[0].action_update.phase == phase_pb2.ACTION_PHASE_SUCCEEDED

    # Enqueueing it again (a replayed parent) is accepted and runs nothing.
    await clients.queue_service.EnqueueAction(request)
    details = await clients.run_service.GetActionDetails(
        run_service_pb2.GetActionDetailsRequest(action_id=request.action_id)
    )
    assert len(details.details.attempts) == 1
    assert details.details.metadata.parent == parent.name
    await clients.run_service.AbortRun(run_service_pb2.AbortRunRequest(run_id=parent.run))


async def test_a_trace_is_recorded_finished_and_echoed(clients, server: Server, deployed: Deployed):
    parent = await running_parent(clients, deployed)
    stream = clients.state_service.Watch(state_service_pb2.WatchRequest(parent_action_id=parent))
    responses = stream.__aiter__()
    assert (await responses.__anext__()).control_message.sentinel  # no children yet
    uri = str(run_base(server, parent) / "t1" / "outputs.pb")
    trace = run_definition_pb2.TraceAction(
        name="helper", phase=phase_pb2.ACTION_PHASE_SUCCEEDED, outputs=common_pb2.OutputReferences(output_uri=uri)
    )
    await clients.queue_service.EnqueueAction(
        queue_service_pb2.EnqueueActionRequest(
            action_id=identifier_pb2.ActionIdentifier(run=parent.run, name="t1"),
            parent_action_name=parent.name,
            trace=trace,
        )
    )
    echoed = (await asyncio.wait_for(responses.__anext__(), WAIT_SECONDS)).action_update
    stream.cancel()
    assert echoed.action_id.name == "t1"
    assert echoed.phase == phase_pb2.ACTION_PHASE_SUCCEEDED
    assert echoed.output_uri == uri
    listed = await clients.run_service.ListActions(run_service_pb2.ListActionsRequest(run_id=parent.run))
    traced = [a for a in listed.actions if a.id.name == "t1"]
    assert traced[0].metadata.action_type == run_definition_pb2.ACTION_TYPE_TRACE
    assert traced[0].metadata.trace.name == "helper"
    await clients.run_service.AbortRun(run_service_pb2.AbortRunRequest(run_id=parent.run))


async def test_abort_queued_action_stops_a_running_child(clients, server: Server, deployed: Deployed):
    parent = await running_parent(clients, deployed)
    base = run_base(server, parent)
    (base / "nap").mkdir(parents=True, exist_ok=True)
    (base / "nap" / "inputs.pb").write_bytes(inputs(seconds=(30.0, float)).SerializeToString())
    details = await clients.task_service.GetTaskDetails(_task_request(deployed.ids["sleepy"]))
    child = identifier_pb2.ActionIdentifier(run=parent.run, name="nap")
    await clients.queue_service.EnqueueAction(
        queue_service_pb2.EnqueueActionRequest(
            action_id=child,
            parent_action_name=parent.name,
            input_uri=str(base / "nap" / "inputs.pb"),
            task=run_definition_pb2.TaskAction(id=deployed.ids["sleepy"], spec=details.details.spec),
        )
    )
    await clients.queue_service.AbortQueuedAction(
        queue_service_pb2.AbortQueuedActionRequest(action_id=child, reason="not needed")
    )
    final = None
    stream = clients.run_service.WatchActionDetails(run_service_pb2.WatchActionDetailsRequest(action_id=child))
    async for response in stream:
        final = response.details
    assert final is not None
    assert final.status.phase == phase_pb2.ACTION_PHASE_ABORTED
    assert final.abort_info.reason == "not needed"
    await clients.run_service.AbortRun(run_service_pb2.AbortRunRequest(run_id=parent.run))


async def test_bad_enqueue_requests_are_refused_and_change_nothing(clients, server: Server, deployed: Deployed):
    parent = await running_parent(clients, deployed)
    details = await clients.task_service.GetTaskDetails(_task_request(deployed.ids["add"]))
    task = run_definition_pb2.TaskAction(id=deployed.ids["add"], spec=details.details.spec)

    def request(**changes: object) -> queue_service_pb2.EnqueueActionRequest:
        fields: dict[str, object] = {
            "action_id": identifier_pb2.ActionIdentifier(run=parent.run, name="refused"),
            "parent_action_name": parent.name,
            "input_uri": str(run_base(server, parent) / "refused" / "inputs.pb"),
            "task": task,
        }
        fields.update(changes)
        return queue_service_pb2.EnqueueActionRequest(**fields)  # type: ignore[arg-type]

    other_run = identifier_pb2.RunIdentifier(project=PROJECT, domain=DOMAIN, name="no-such-run")
    cases = {
        "no parent": (request(parent_action_name=""), grpc.StatusCode.INVALID_ARGUMENT),
        "unknown parent": (request(parent_action_name="nobody"), grpc.StatusCode.NOT_FOUND),
        "unknown run": (
            request(action_id=identifier_pb2.ActionIdentifier(run=other_run, name="refused")),
            grpc.StatusCode.NOT_FOUND,
        ),
        "bad name": (
            request(action_id=identifier_pb2.ActionIdentifier(run=parent.run, name="../x")),
            grpc.StatusCode.INVALID_ARGUMENT,
        ),
        "inputs outside": (request(input_uri="/etc/passwd"), grpc.StatusCode.INVALID_ARGUMENT),
        "inputs escaping": (
            request(input_uri=str(run_base(server, parent) / ".." / "other" / "inputs.pb")),
            grpc.StatusCode.INVALID_ARGUMENT,
        ),
        "neither task nor trace": (
            queue_service_pb2.EnqueueActionRequest(
                action_id=identifier_pb2.ActionIdentifier(run=parent.run, name="refused"),
                parent_action_name=parent.name,
            ),
            grpc.StatusCode.INVALID_ARGUMENT,
        ),
        "unfinished trace": (
            queue_service_pb2.EnqueueActionRequest(
                action_id=identifier_pb2.ActionIdentifier(run=parent.run, name="refused"),
                parent_action_name=parent.name,
                trace=run_definition_pb2.TraceAction(name="t", phase=phase_pb2.ACTION_PHASE_RUNNING),
            ),
            grpc.StatusCode.INVALID_ARGUMENT,
        ),
        "its own parent": (
            request(action_id=identifier_pb2.ActionIdentifier(run=parent.run, name=parent.name)),
            grpc.StatusCode.INVALID_ARGUMENT,
        ),
    }
    for what, (bad, code) in cases.items():
        with pytest.raises(grpc.aio.AioRpcError) as e:
            await clients.queue_service.EnqueueAction(bad)
        assert e.value.code() == code, what
    listed = await clients.run_service.ListActions(run_service_pb2.ListActionsRequest(run_id=parent.run))
    assert [a.id.name for a in listed.actions] == [parent.name]
    with pytest.raises(grpc.aio.AioRpcError) as e:
        await clients.state_service.Watch(
            state_service_pb2.WatchRequest(
                parent_action_id=identifier_pb2.ActionIdentifier(run=parent.run, name="nobody")
            )
        ).read()
    assert e.value.code() == grpc.StatusCode.NOT_FOUND
    await clients.run_service.AbortRun(run_service_pb2.AbortRunRequest(run_id=parent.run))
    # A parent that has ended cannot start children.
    final = None
    async for response in clients.run_service.WatchActionDetails(
        run_service_pb2.WatchActionDetailsRequest(action_id=parent)
    ):
        final = response.details
    assert final is not None
    with pytest.raises(grpc.aio.AioRpcError) as e:
        await clients.queue_service.EnqueueAction(request())
    assert e.value.code() == grpc.StatusCode.FAILED_PRECONDITION
