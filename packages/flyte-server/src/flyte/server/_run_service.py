"""RunService: create runs, read and watch them and their actions, list, abort."""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator
from typing import Any

from connectrpc.code import Code
from connectrpc.errors import ConnectError
from connectrpc.request import RequestContext
from flyteidl2.task import common_pb2, run_pb2
from flyteidl2.workflow import run_service_pb2
from flyteidl2.workflow.run_service_connect import RunService

from flyte.server import _convert as convert
from flyte.server._action_data import action_data
from flyte.server._executor import QUEUED, TERMINAL
from flyte.server._layout import to_uri
from flyte.server._listing import Field, build_query, next_token, parse_phase, parse_time
from flyte.server._messages import write_message
from flyte.server._requests import RunKey, check_inputs, find_action, find_run, resolve_task, run_key, scope
from flyte.server._rpc_errors import already_exists, invalid_argument
from flyte.server._state import ServerState
from flyte.server._store import NewRun, RunExistsError

ROOT_ACTION = "a0"

_RUN_FIELDS = {
    "name": Field("r.name"),
    "phase": Field("a.phase", parse_phase, text=False),
    "task_name": Field("a.task_name"),
    "created_at": Field("r.created_at", parse_time, text=False),
    "updated_at": Field("a.updated_at", parse_time, text=False),
}
_ACTION_FIELDS = {
    "name": Field("a.name"),
    "phase": Field("a.phase", parse_phase, text=False),
    "action_type": Field("a.action_type", int, text=False),
    "created_at": Field("a.created_at", parse_time, text=False),
    "updated_at": Field("a.updated_at", parse_time, text=False),
}
_TASK_MATCH = "a.task_org = ? AND a.task_project = ? AND a.task_domain = ? AND a.task_name = ?"


def _new_run_key(request: run_service_pb2.CreateRunRequest) -> RunKey:
    if request.HasField("run_id"):
        return run_key(request.run_id)
    if request.HasField("project_id"):
        org, project, domain = scope(request.project_id)
        # The public SDK's run names: a letter, then random lowercase characters.
        return RunKey(org, project, domain, "r" + secrets.token_hex(10))
    raise invalid_argument("CreateRun needs run_id or project_id")


class RunServiceImpl(RunService):
    def __init__(self, state: ServerState):
        self._state = state

    async def create_run(
        self, request: run_service_pb2.CreateRunRequest, ctx: RequestContext[Any, Any]
    ) -> run_service_pb2.CreateRunResponse:
        state = self._state
        key = _new_run_key(request)
        if request.HasField("trigger_name"):
            raise ConnectError(Code.UNIMPLEMENTED, "runs by trigger are not supported by this server yet")
        task = await resolve_task(
            state,
            request.task_id if request.HasField("task_id") else None,
            request.task_spec if request.HasField("task_spec") else None,
        )
        base = state.layout.run_base(key.org, key.project, key.domain, key.name)
        inline_inputs: common_pb2.Inputs | None = None
        if request.HasField("offloaded_input_data") and request.offloaded_input_data.uri:
            stored = state.layout.confined_blob(request.offloaded_input_data.uri)
            if stored is None:
                raise invalid_argument(
                    f"offloaded inputs {request.offloaded_input_data.uri!r} are not a file this server stored; "
                    "upload them with UploadInputs"
                )
            if not stored.is_file():
                raise invalid_argument(f"offloaded inputs {request.offloaded_input_data.uri!r} do not exist")
            input_uri = to_uri(stored)
        else:
            inline_inputs = request.inputs if request.HasField("inputs") else common_pb2.Inputs()
            check_inputs(task.spec, inline_inputs)
            input_uri = to_uri(base / ROOT_ACTION / "inputs.pb")
        run_spec = request.run_spec if request.HasField("run_spec") else run_pb2.RunSpec()
        new = NewRun(
            org=key.org,
            project=key.project,
            domain=key.domain,
            name=key.name,
            run_spec=run_spec.SerializeToString(deterministic=True),
            base_dir=str(base),
            task_org=task.task_id.org,
            task_project=task.task_id.project,
            task_domain=task.task_id.domain,
            task_name=task.task_id.name,
            task_version=task.task_id.version,
            task_spec=task.spec.SerializeToString(deterministic=True),
            input_uri=input_uri,
            root_action=ROOT_ACTION,
            phase=QUEUED,
        )
        try:
            run = await state.store.create_run(new)
        except RunExistsError:
            raise already_exists(f"run {key.project}/{key.domain}/{key.name} already exists") from None
        # Written after the run is recorded, so a refused name never touches another run's files.
        if inline_inputs is not None:
            await write_message(input_uri, inline_inputs)
        state.executor.enqueue(run.root.id)
        return run_service_pb2.CreateRunResponse(run=convert.run(run))

    async def abort_run(
        self, request: run_service_pb2.AbortRunRequest, ctx: RequestContext[Any, Any]
    ) -> run_service_pb2.AbortRunResponse:
        run = await find_run(self._state, request.run_id)
        await self._state.executor.abort(run.root, request.reason or "aborted by the user")
        return run_service_pb2.AbortRunResponse()

    async def abort_action(
        self, request: run_service_pb2.AbortActionRequest, ctx: RequestContext[Any, Any]
    ) -> run_service_pb2.AbortActionResponse:
        action = await find_action(self._state, request.action_id)
        await self._state.executor.abort(action, request.reason or "aborted by the user")
        return run_service_pb2.AbortActionResponse()

    async def get_run_details(
        self, request: run_service_pb2.GetRunDetailsRequest, ctx: RequestContext[Any, Any]
    ) -> run_service_pb2.GetRunDetailsResponse:
        run = await find_run(self._state, request.run_id)
        attempts = await self._state.store.attempts(run.root.id)
        return run_service_pb2.GetRunDetailsResponse(details=convert.run_details(run, attempts))

    async def get_action_details(
        self, request: run_service_pb2.GetActionDetailsRequest, ctx: RequestContext[Any, Any]
    ) -> run_service_pb2.GetActionDetailsResponse:
        action = await find_action(self._state, request.action_id)
        attempts = await self._state.store.attempts(action.id)
        return run_service_pb2.GetActionDetailsResponse(details=convert.action_details(action, attempts))

    async def watch_action_details(
        self, request: run_service_pb2.WatchActionDetailsRequest, ctx: RequestContext[Any, Any]
    ) -> AsyncIterator[run_service_pb2.WatchActionDetailsResponse]:
        state = self._state
        action = await find_action(state, request.action_id)
        async with state.events.watch(action.id) as changed:
            while True:
                changed.clear()  # before reading: a change after the read wakes the next wait
                action = await state.store.get_action_by_id(action.id)
                attempts = await state.store.attempts(action.id)
                yield run_service_pb2.WatchActionDetailsResponse(details=convert.action_details(action, attempts))
                if action.phase in TERMINAL:
                    return
                await changed.wait()

    async def get_action_data(
        self, request: run_service_pb2.GetActionDataRequest, ctx: RequestContext[Any, Any]
    ) -> run_service_pb2.GetActionDataResponse:
        data = await action_data(self._state, request.action_id)
        return run_service_pb2.GetActionDataResponse(inputs=data.inputs, outputs=data.outputs)

    async def list_runs(
        self, request: run_service_pb2.ListRunsRequest, ctx: RequestContext[Any, Any]
    ) -> run_service_pb2.ListRunsResponse:
        query = build_query(request.request, _RUN_FIELDS, "r.id DESC")
        if request.HasField("project_id"):
            query.add("r.org = ? AND r.project = ? AND r.domain = ?", *scope(request.project_id))
        elif request.org:
            query.add("r.org = ?", request.org)
        if request.HasField("task_name"):
            t = request.task_name
            query.add(_TASK_MATCH, t.org, t.project, t.domain, t.name)
        if request.HasField("task_id"):
            t2 = request.task_id
            query.add(_TASK_MATCH + " AND a.task_version = ?", t2.org, t2.project, t2.domain, t2.name, t2.version)
        runs = await self._state.store.list_runs(query)
        return run_service_pb2.ListRunsResponse(
            runs=[convert.run(r) for r in runs[: query.limit]], token=next_token(query, len(runs))
        )

    async def list_actions(
        self, request: run_service_pb2.ListActionsRequest, ctx: RequestContext[Any, Any]
    ) -> run_service_pb2.ListActionsResponse:
        run = await find_run(self._state, request.run_id)
        query = build_query(request.request, _ACTION_FIELDS, "a.id")
        actions = await self._state.store.list_actions(run.id, query)
        return run_service_pb2.ListActionsResponse(
            actions=[convert.action(a) for a in actions[: query.limit]], token=next_token(query, len(actions))
        )
