"""TaskService: deploy (idempotent per id and version), get and list tasks."""

from __future__ import annotations

import hashlib
import time
from typing import Any

from connectrpc.code import Code
from connectrpc.errors import ConnectError
from connectrpc.request import RequestContext
from flyteidl2.task import task_definition_pb2, task_service_pb2
from flyteidl2.task.task_service_connect import TaskService

from flyte.server import _convert as convert
from flyte.server._listing import Field, build_query, next_token, parse_time
from flyte.server._requests import scope, spec_task_id, task_key
from flyte.server._rpc_errors import already_exists, invalid_argument, not_found
from flyte.server._state import ServerState
from flyte.server._store import TaskRow

_FIELDS = {
    "name": Field("name"),
    "version": Field("version"),
    "environment": Field("environment"),
    "created_at": Field("deployed_at", parse_time, text=False),
    "deployed_at": Field("deployed_at", parse_time, text=False),
}


def spec_digest(spec: task_definition_pb2.TaskSpec) -> str:
    return hashlib.sha256(spec.SerializeToString(deterministic=True)).hexdigest()


class TaskServiceImpl(TaskService):
    def __init__(self, state: ServerState):
        self._state = state

    async def deploy_task(
        self, request: task_service_pb2.DeployTaskRequest, ctx: RequestContext[Any, Any]
    ) -> task_service_pb2.DeployTaskResponse:
        key = task_key(request.task_id)
        if not request.HasField("spec"):
            raise invalid_argument("DeployTask needs a spec")
        spec_task_id(request.spec, key)
        if request.triggers:
            raise ConnectError(Code.UNIMPLEMENTED, "triggers are not supported by this server yet")
        spec = task_definition_pb2.TaskSpec()
        spec.CopyFrom(request.spec)
        # The stored template carries the full identity, whatever the client filled in.
        spec.task_template.id.CopyFrom(key.to_core_identifier())
        row = TaskRow(
            org=key.org,
            project=key.project,
            domain=key.domain,
            name=key.name,
            version=key.version,
            spec=spec.SerializeToString(deterministic=True),
            spec_digest=spec_digest(spec),
            short_name=spec.short_name or key.name.rsplit(".", 1)[-1],
            environment=spec.environment.name,
            deployed_at=time.time(),
        )
        stored = await self._state.store.put_task(row)
        if stored.spec_digest != row.spec_digest:
            raise already_exists(
                f"task {key.name} version {key.version} is already deployed with a different spec; "
                "deploy the change under a new version"
            )
        return task_service_pb2.DeployTaskResponse()

    async def get_task_details(
        self, request: task_service_pb2.GetTaskDetailsRequest, ctx: RequestContext[Any, Any]
    ) -> task_service_pb2.GetTaskDetailsResponse:
        key = task_key(request.task_id)
        row = await self._state.store.get_task(key.org, key.project, key.domain, key.name, key.version)
        if row is None:
            raise not_found(f"task {key.name} version {key.version} is not deployed in {key.project}/{key.domain}")
        return task_service_pb2.GetTaskDetailsResponse(details=convert.task_details(row))

    async def list_tasks(
        self, request: task_service_pb2.ListTasksRequest, ctx: RequestContext[Any, Any]
    ) -> task_service_pb2.ListTasksResponse:
        query = build_query(request.request, _FIELDS, "deployed_at DESC, name, version")
        in_scope: tuple[list[str], list[Any]] = ([], [])
        if request.HasField("project_id"):
            project = list(scope(request.project_id))
            query.where.insert(0, "org = ? AND project = ? AND domain = ?")
            query.params[:0] = project
            in_scope = ([query.where[0]], project)
        store = self._state.store
        rows = await store.list_tasks(query)
        return task_service_pb2.ListTasksResponse(
            tasks=[convert.task(r) for r in rows[: query.limit]],
            token=next_token(query, len(rows)),
            metadata=task_service_pb2.ListTasksResponse.ListTasksMetadata(
                total=await store.count_tasks(*in_scope),
                filtered_total=await store.count_tasks(query.where, query.params),
            ),
        )
