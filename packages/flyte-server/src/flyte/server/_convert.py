"""Stored rows -> the flyteidl2 messages the services answer with."""

from __future__ import annotations

from typing import cast

from flyteidl2.common import identifier_pb2, phase_pb2
from flyteidl2.core import execution_pb2
from flyteidl2.task import common_pb2, run_pb2, task_definition_pb2
from flyteidl2.workflow import run_definition_pb2
from google.protobuf import timestamp_pb2

from flyte.models import ErrorInfo
from flyte.server._store import ActionRow, AttemptRow, RunRow, TaskRow

_KIND = {
    "user": run_definition_pb2.ErrorInfo.KIND_USER,
    "system": run_definition_pb2.ErrorInfo.KIND_SYSTEM,
    "unknown": run_definition_pb2.ErrorInfo.KIND_UNSPECIFIED,
}


def _phase(value: int) -> phase_pb2.ActionPhase:
    # Stored as its number; the generated stubs type enum fields by the enum wrapper.
    return cast("phase_pb2.ActionPhase", value)


def timestamp(seconds: float) -> timestamp_pb2.Timestamp:
    ts = timestamp_pb2.Timestamp()
    ts.FromNanoseconds(int(seconds * 1e9))
    return ts


def task_id(row: TaskRow) -> task_definition_pb2.TaskIdentifier:
    return task_definition_pb2.TaskIdentifier(
        org=row.org, project=row.project, domain=row.domain, name=row.name, version=row.version
    )


def task_metadata(row: TaskRow, spec: task_definition_pb2.TaskSpec) -> task_definition_pb2.TaskMetadata:
    return task_definition_pb2.TaskMetadata(
        short_name=row.short_name,
        deployed_at=timestamp(row.deployed_at),
        environment_name=row.environment,
        short_description=spec.documentation.short_description,
    )


def task(row: TaskRow) -> task_definition_pb2.Task:
    spec = task_definition_pb2.TaskSpec.FromString(row.spec)
    return task_definition_pb2.Task(task_id=task_id(row), metadata=task_metadata(row, spec))


def task_details(row: TaskRow) -> task_definition_pb2.TaskDetails:
    spec = task_definition_pb2.TaskSpec.FromString(row.spec)
    return task_definition_pb2.TaskDetails(task_id=task_id(row), metadata=task_metadata(row, spec), spec=spec)


def run_id(row: ActionRow) -> identifier_pb2.RunIdentifier:
    return identifier_pb2.RunIdentifier(org=row.org, project=row.project, domain=row.domain, name=row.run_name)


def action_id(row: ActionRow) -> identifier_pb2.ActionIdentifier:
    return identifier_pb2.ActionIdentifier(run=run_id(row), name=row.name)


def error_info(raw: bytes | None) -> run_definition_pb2.ErrorInfo | None:
    if raw is None:
        return None
    info = ErrorInfo.from_execution_error(execution_pb2.ExecutionError.FromString(raw))
    return run_definition_pb2.ErrorInfo(code=info.code, message=info.message, kind=_KIND[info.kind])


def action(row: ActionRow) -> run_definition_pb2.Action:
    spec = task_definition_pb2.TaskSpec.FromString(row.task_spec)
    metadata = run_definition_pb2.ActionMetadata(
        parent=row.parent or "",
        group=row.group_name or "",
        action_type=cast("run_definition_pb2.ActionType", row.action_type),
        environment_name=spec.environment.name,
        funtion_name=spec.short_name,
    )
    if row.action_type == run_definition_pb2.ACTION_TYPE_TRACE:
        metadata.trace.CopyFrom(run_definition_pb2.TraceActionMetadata(name=row.task_name))
    else:
        metadata.task.CopyFrom(
            run_definition_pb2.TaskActionMetadata(
                id=task_definition_pb2.TaskIdentifier(
                    org=row.task_org,
                    project=row.task_project,
                    domain=row.task_domain,
                    name=row.task_name,
                    version=row.task_version,
                ),
                task_type=spec.task_template.type,
                short_name=spec.short_name,
            )
        )
    status = run_definition_pb2.ActionStatus(phase=_phase(row.phase), attempts=row.attempts)
    if row.started_at is not None:
        status.start_time.CopyFrom(timestamp(row.started_at))
    if row.ended_at is not None:
        status.end_time.CopyFrom(timestamp(row.ended_at))
        status.duration_ms = int((row.ended_at - (row.started_at or row.created_at)) * 1000)
    return run_definition_pb2.Action(id=action_id(row), metadata=metadata, status=status)


def attempt(row: AttemptRow) -> run_definition_pb2.ActionAttempt:
    out = run_definition_pb2.ActionAttempt(
        phase=_phase(row.phase),
        attempt=row.attempt,
        start_time=timestamp(row.started_at),
        outputs=common_pb2.OutputReferences(output_uri=row.outputs_uri),
        logs_available=True,
    )
    if row.ended_at is not None:
        out.end_time.CopyFrom(timestamp(row.ended_at))
    error = error_info(row.error)
    if error is not None:
        out.error_info.CopyFrom(error)
    return out


def action_details(row: ActionRow, attempts: list[AttemptRow]) -> run_definition_pb2.ActionDetails:
    summary = action(row)
    details = run_definition_pb2.ActionDetails(
        id=summary.id,
        metadata=summary.metadata,
        status=summary.status,
        task=task_definition_pb2.TaskSpec.FromString(row.task_spec),
        attempts=[attempt(a) for a in attempts],
    )
    error = error_info(row.error)
    if row.abort_reason is not None and row.ended_at is not None:
        details.abort_info.CopyFrom(run_definition_pb2.AbortInfo(reason=row.abort_reason))
    elif error is not None:
        details.error_info.CopyFrom(error)
    return details


def run(row: RunRow) -> run_definition_pb2.Run:
    return run_definition_pb2.Run(action=action(row.root))


def run_details(row: RunRow, attempts: list[AttemptRow]) -> run_definition_pb2.RunDetails:
    return run_definition_pb2.RunDetails(
        run_spec=run_pb2.RunSpec.FromString(row.run_spec), action=action_details(row.root, attempts)
    )
