"""QueueService: a running task's controller enqueues child actions (tasks to run, traces already run)
and aborts the ones it no longer waits for.

Enqueueing is idempotent by action name: a parent replayed after a crash, a restart or a retry
names its children as before (ARCHITECTURE.md, "Files"), and a child that exists is left as it
is, running or finished. That is what makes replay cheap: finished children are not run again.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from connectrpc.code import Code
from connectrpc.errors import ConnectError
from connectrpc.request import RequestContext
from flyteidl2.common import phase_pb2
from flyteidl2.core import execution_pb2
from flyteidl2.task import task_definition_pb2
from flyteidl2.workflow import queue_service_pb2, run_definition_pb2
from flyteidl2.workflow.queue_service_connect import QueueService

from flyte.models import ErrorInfo
from flyte.server import _names as names
from flyte.server._executor import QUEUED, TERMINAL
from flyte.server._layout import from_uri, to_uri
from flyte.server._messages import read_message
from flyte.server._requests import resolve_task
from flyte.server._rpc_errors import already_exists, failed_precondition, invalid_argument
from flyte.server._state import ServerState
from flyte.server._state_service import ChildEvents, find_task_action, find_task_run
from flyte.server._store import ActionRow, NewChild, RunRow

TASK = run_definition_pb2.ACTION_TYPE_TASK
TRACE = run_definition_pb2.ACTION_TYPE_TRACE


class QueueServiceImpl(QueueService):
    def __init__(self, state: ServerState, children: ChildEvents):
        self._state = state
        self._children = children

    async def enqueue_action(
        self, request: queue_service_pb2.EnqueueActionRequest, ctx: RequestContext[Any, Any]
    ) -> queue_service_pb2.EnqueueActionResponse:
        state = self._state
        if not request.HasField("action_id"):
            raise invalid_argument("EnqueueAction needs action_id")
        name = names.check_action_name(request.action_id.name)
        if not request.parent_action_name:
            raise invalid_argument("EnqueueAction needs parent_action_name: the action that creates this one")
        run = await find_task_run(state, request.action_id.run)
        parent = await find_task_action(
            state, type(request.action_id)(run=request.action_id.run, name=request.parent_action_name)
        )
        if name == parent.name:
            raise invalid_argument(f"action {name} cannot be its own parent")
        kind = request.WhichOneof("spec")
        if kind == "task":
            new = await self._task_child(run, parent, name, request)
        elif kind == "trace":
            new = await self._trace_child(run, parent, name, request)
        elif kind == "condition":
            raise ConnectError(Code.UNIMPLEMENTED, "condition actions are not supported by this server")
        else:
            raise invalid_argument("EnqueueAction needs a task or a trace")
        if parent.phase in TERMINAL:
            existing = await state.store.get_action(run.org, run.project, run.domain, run.name, name)
            if existing is not None:
                return self._again(existing, parent)
            raise failed_precondition(f"parent action {parent.name} has already ended; it cannot start children")
        row, created = await state.store.enqueue_child(new)
        if not created:  # enqueued before: a replayed parent, or a concurrent enqueue of the same name
            return self._again(row, parent)
        self._children.register(row.id, run.id, parent.name)
        state.events.changed(row.id)
        if row.action_type == TASK:
            state.executor.lend_slot(parent.id)
            state.executor.enqueue(row.id)
        return queue_service_pb2.EnqueueActionResponse()

    def _again(self, existing: ActionRow, parent: ActionRow) -> queue_service_pb2.EnqueueActionResponse:
        """A child enqueued again (a replayed parent): it keeps running or stays finished."""
        if existing.parent != parent.name:
            raise already_exists(
                f"action {existing.name} already exists in run {existing.run_name} under another parent "
                f"({existing.parent or 'none: it is the root'})"
            )
        self._children.register(existing.id, existing.run_id, parent.name)
        if existing.action_type == TASK and existing.phase not in TERMINAL:
            self._state.executor.lend_slot(parent.id)
        return queue_service_pb2.EnqueueActionResponse()

    def _confined_input(self, run: RunRow, uri: str) -> str:
        """The inputs file of a child must lie in the run's folder or the blob folder."""
        if not uri:
            raise invalid_argument("a task action needs input_uri (where its inputs.pb is)")
        try:
            path = from_uri(uri).resolve()
        except (ValueError, OSError) as e:
            raise invalid_argument(f"input_uri {uri!r} is not a file of this server: {e}") from None
        roots = (Path(run.base_dir).resolve(), self._state.layout.blobs.resolve())
        if not any(path.is_relative_to(root) and path != root for root in roots):
            raise invalid_argument(
                f"input_uri {uri!r} is outside the run's folder and the blob folder; write it under {run.base_dir}"
            )
        return to_uri(path)

    async def _task_child(
        self, run: RunRow, parent: ActionRow, name: str, request: queue_service_pb2.EnqueueActionRequest
    ) -> NewChild:
        action = request.task
        task = await resolve_task(
            self._state,
            action.id if action.HasField("id") and not action.HasField("spec") else None,
            action.spec if action.HasField("spec") else None,
        )
        return NewChild(
            run_id=run.id,
            name=name,
            parent=parent.name,
            task_org=task.task_id.org,
            task_project=task.task_id.project,
            task_domain=task.task_id.domain,
            task_name=task.task_id.name,
            task_version=task.task_id.version,
            task_spec=task.spec.SerializeToString(deterministic=True),
            input_uri=self._confined_input(run, request.input_uri),
            phase=QUEUED,
            action_type=TASK,
            group_name=request.group or None,
        )

    async def _trace_child(
        self, run: RunRow, parent: ActionRow, name: str, request: queue_service_pb2.EnqueueActionRequest
    ) -> NewChild:
        trace = request.trace
        if trace.phase not in TERMINAL:
            raise invalid_argument(
                f"trace {name} has phase {phase_pb2.ActionPhase.Name(trace.phase)}; a trace is recorded once it "
                "has ended (SUCCEEDED or FAILED)"
            )
        error: bytes | None = None
        if trace.phase != phase_pb2.ACTION_PHASE_SUCCEEDED:
            error = (await self._trace_error(run, name)).to_execution_error().SerializeToString()
        spec = task_definition_pb2.TaskSpec()
        if trace.HasField("spec") and trace.spec.HasField("interface"):
            spec.task_template.interface.CopyFrom(trace.spec.interface)
        spec.short_name = trace.name
        return NewChild(
            run_id=run.id,
            name=name,
            parent=parent.name,
            task_org=run.org,
            task_project=run.project,
            task_domain=run.domain,
            task_name=trace.name or name,
            task_version="",
            task_spec=spec.SerializeToString(deterministic=True),
            input_uri=request.input_uri,
            phase=trace.phase,
            action_type=TRACE,
            group_name=request.group or None,
            output_uri=trace.outputs.output_uri or None,
            error=error,
            started_at=trace.start_time.ToNanoseconds() / 1e9 if trace.HasField("start_time") else None,
            ended_at=trace.end_time.ToNanoseconds() / 1e9 if trace.HasField("end_time") else time.time(),
        )

    async def _trace_error(self, run: RunRow, name: str) -> ErrorInfo:
        # A failed trace leaves its error.pb in <run base>/<trace>/, where the parent wrote it.
        doc = await read_message(to_uri(Path(run.base_dir) / name / "error.pb"), execution_pb2.ErrorDocument)
        if doc is None:
            return ErrorInfo("TraceFailed", f"trace {name} failed", kind="user", recoverable=False)
        return ErrorInfo.from_document(doc)

    async def abort_queued_action(
        self, request: queue_service_pb2.AbortQueuedActionRequest, ctx: RequestContext[Any, Any]
    ) -> queue_service_pb2.AbortQueuedActionResponse:
        action = await find_task_action(self._state, request.action_id)
        await self._state.executor.abort(action, request.reason or "aborted by its parent")
        return queue_service_pb2.AbortQueuedActionResponse()

    async def abort_queued_run(
        self, request: queue_service_pb2.AbortQueuedRunRequest, ctx: RequestContext[Any, Any]
    ) -> queue_service_pb2.AbortQueuedRunResponse:
        run = await find_task_run(self._state, request.run_id)
        await self._state.executor.abort(run.root, request.reason or "aborted")
        return queue_service_pb2.AbortQueuedRunResponse()
