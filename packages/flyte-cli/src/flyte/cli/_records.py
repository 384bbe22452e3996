"""Runs and actions as the backend reports them, and the stable rows ``get`` prints.

The rows come straight from flyteidl2's ``Action`` / ``ActionDetails`` messages (a wire contract),
so ``-of json`` keeps its keys whatever the client objects grow: every run and action row has the
same keys, missing values are ``null``, times are ISO 8601 UTC and durations seconds.
"""

from __future__ import annotations

import datetime
from typing import TYPE_CHECKING, Any

from flyte.remote._session import call, clients_for, current_session
from flyte.syncify import syncify

if TYPE_CHECKING:
    from flyteidl2.common import identifier_pb2
    from flyteidl2.workflow import run_definition_pb2

TERMINAL = frozenset({"SUCCEEDED", "FAILED", "ABORTED", "TIMED_OUT"})


def phase_name(phase: int) -> str:
    from flyteidl2.common import phase_pb2

    return str(phase_pb2.ActionPhase.Name(phase)).removeprefix("ACTION_PHASE_")


def _run_id(name: str) -> identifier_pb2.RunIdentifier:
    from flyteidl2.common import identifier_pb2

    session = current_session()
    return identifier_pb2.RunIdentifier(org=session.org, project=session.project, domain=session.domain, name=name)


@syncify
async def list_runs(limit: int, in_phase: tuple[str, ...] = ()) -> list[run_definition_pb2.Action]:
    """The root actions of the project's runs, newest first."""
    from flyteidl2.common import identifier_pb2, list_pb2, phase_pb2
    from flyteidl2.workflow import run_service_pb2

    session = current_session()
    project = identifier_pb2.ProjectIdentifier(organization=session.org, name=session.project, domain=session.domain)
    filters = []
    if in_phase:
        values = [str(phase_pb2.ActionPhase.Value("ACTION_PHASE_" + p.upper())) for p in in_phase]
        filters.append(list_pb2.Filter(function=list_pb2.Filter.VALUE_IN, field="phase", values=values))
    found: list[run_definition_pb2.Action] = []
    token = ""
    while len(found) < limit:
        request = run_service_pb2.ListRunsRequest(
            project_id=project,
            request=list_pb2.ListRequest(limit=min(100, limit - len(found)), token=token, filters=filters),
        )
        response = await call(session, clients_for(session).run_service.ListRuns, request)
        found += [r.action for r in response.runs]
        token = response.token
        if not token or not response.runs:
            break
    return found[:limit]


@syncify
async def run_details(name: str) -> run_definition_pb2.ActionDetails:
    """The root action of run ``name``, in detail (attempts, error, task spec)."""
    from flyteidl2.workflow import run_service_pb2

    session = current_session()
    response = await call(
        session,
        clients_for(session).run_service.GetRunDetails,
        run_service_pb2.GetRunDetailsRequest(run_id=_run_id(name)),
        failure=lambda m: LookupError(f"no run {name!r} in {session.project}/{session.domain} ({m})"),
    )
    details: run_definition_pb2.ActionDetails = response.details.action
    return details


@syncify
async def list_actions(run_name: str) -> list[run_definition_pb2.Action]:
    """Every action of run ``run_name`` (the root one included)."""
    from flyteidl2.common import list_pb2
    from flyteidl2.workflow import run_service_pb2

    session = current_session()
    found: list[run_definition_pb2.Action] = []
    token = ""
    while True:
        request = run_service_pb2.ListActionsRequest(
            run_id=_run_id(run_name), request=list_pb2.ListRequest(limit=1000, token=token)
        )
        response = await call(
            session,
            clients_for(session).run_service.ListActions,
            request,
            failure=lambda m: LookupError(f"cannot list the actions of run {run_name!r} ({m})"),
        )
        found += list(response.actions)
        token = response.token
        if not token or not response.actions:
            return found


@syncify
async def action_details(run_name: str, action_name: str) -> run_definition_pb2.ActionDetails:
    from flyteidl2.common import identifier_pb2
    from flyteidl2.workflow import run_service_pb2

    session = current_session()
    action_id = identifier_pb2.ActionIdentifier(run=_run_id(run_name), name=action_name)
    response = await call(
        session,
        clients_for(session).run_service.GetActionDetails,
        run_service_pb2.GetActionDetailsRequest(action_id=action_id),
        failure=lambda m: LookupError(f"no action {action_name!r} in run {run_name!r} ({m})"),
    )
    details: run_definition_pb2.ActionDetails = response.details
    return details


# --- rows ----------------------------------------------------------------------------------


def _time(ts: Any) -> str | None:
    if not ts.seconds and not ts.nanos:
        return None
    return str(ts.ToDatetime(tzinfo=datetime.timezone.utc).isoformat(timespec="seconds"))


def duration_s(status: Any, now: datetime.datetime | None = None) -> float | None:
    """Seconds the action ran: its reported duration, else end (or now) minus start."""
    if status.duration_ms:
        return round(float(status.duration_ms) / 1000, 3)
    if not status.start_time.seconds:
        return None
    end = (
        status.end_time.ToDatetime(tzinfo=datetime.timezone.utc)
        if status.end_time.seconds
        else (now or datetime.datetime.now(datetime.timezone.utc))
    )
    started: datetime.datetime = status.start_time.ToDatetime(tzinfo=datetime.timezone.utc)
    return round((end - started).total_seconds(), 3)


def task_name(action: Any) -> str | None:
    meta = action.metadata
    if meta.HasField("task"):
        return str(meta.task.id.name or meta.task.short_name) or None
    if meta.HasField("trace"):
        return str(meta.trace.name) or None
    return None


def action_row(action: run_definition_pb2.Action | run_definition_pb2.ActionDetails) -> dict[str, Any]:
    """One action: the same keys for every action, whether listed or fetched in detail."""
    status = action.status
    row: dict[str, Any] = {
        "run": action.id.run.name,
        "name": action.id.name,
        "parent": action.metadata.parent or None,
        "task": task_name(action),
        "phase": phase_name(status.phase),
        "attempts": status.attempts,
        "start_time": _time(status.start_time),
        "end_time": _time(status.end_time),
        "duration_s": duration_s(status),
    }
    return row


def run_row(action: run_definition_pb2.Action | run_definition_pb2.ActionDetails) -> dict[str, Any]:
    """One run, from its root action."""
    row = action_row(action)
    return {
        "name": row["run"],
        "project": action.id.run.project,
        "domain": action.id.run.domain,
        "task": row["task"],
        "phase": row["phase"],
        "attempts": row["attempts"],
        "start_time": row["start_time"],
        "end_time": row["end_time"],
        "duration_s": row["duration_s"],
    }


def error_text(details: run_definition_pb2.ActionDetails) -> str | None:
    if details.HasField("error_info") and (details.error_info.code or details.error_info.message):
        return f"{details.error_info.code}: {details.error_info.message}".strip(": ")
    if details.HasField("abort_info"):
        return f"aborted: {details.abort_info.reason}" if details.abort_info.reason else "aborted"
    return None


# --- tasks ---------------------------------------------------------------------------------


@syncify
async def list_tasks(limit: int, name: str | None = None) -> list[Any]:
    """Deployed tasks (every version), newest deployment first; ``name`` keeps one task's versions."""
    from flyteidl2.common import identifier_pb2, list_pb2
    from flyteidl2.task import task_service_pb2

    session = current_session()
    project = identifier_pb2.ProjectIdentifier(organization=session.org, name=session.project, domain=session.domain)
    filters = [list_pb2.Filter(function=list_pb2.Filter.EQUAL, field="name", values=[name])] if name else []
    found: list[Any] = []
    token = ""
    while True:
        request = task_service_pb2.ListTasksRequest(
            project_id=project, request=list_pb2.ListRequest(limit=1000, token=token, filters=filters)
        )
        response = await call(session, clients_for(session).task_service.ListTasks, request)
        found += list(response.tasks)
        token = response.token
        if not token or not response.tasks:
            break
    found.sort(key=lambda t: (t.metadata.deployed_at.seconds, t.metadata.deployed_at.nanos), reverse=True)
    return found[:limit]


@syncify
async def task_details(name: str, version: str | None = None) -> Any:
    """A deployed task's details; without ``version``, its latest deployment."""
    from flyteidl2.task import task_definition_pb2, task_service_pb2

    session = current_session()
    if version is None:
        versions = await list_tasks.aio(1, name)
        if not versions:
            raise LookupError(f"no task {name!r} is deployed in {session.project}/{session.domain}")
        version = versions[0].task_id.version
    task_id = task_definition_pb2.TaskIdentifier(
        org=session.org, project=session.project, domain=session.domain, name=name, version=version
    )
    response = await call(
        session,
        clients_for(session).task_service.GetTaskDetails,
        task_service_pb2.GetTaskDetailsRequest(task_id=task_id),
        failure=lambda m: LookupError(f"no task {name!r} version {version!r} ({m})"),
    )
    return response.details


def task_row(task: Any) -> dict[str, Any]:
    """One deployed task (a ListTasks ``Task`` or a ``TaskDetails``)."""
    meta = getattr(task, "metadata", None)
    return {
        "name": task.task_id.name,
        "version": task.task_id.version,
        "short_name": (meta.short_name if meta is not None else task.spec.short_name) or None,
        "environment": (meta.environment_name if meta is not None else task.spec.environment.name) or None,
        "deployed_at": _time(meta.deployed_at) if meta is not None else None,
    }


# --- inputs and outputs --------------------------------------------------------------------


@syncify
async def action_io(run_name: str, action_name: str | None) -> dict[str, dict[str, Any]]:
    """The decoded inputs and outputs of an action (the run's root one without ``action_name``)."""
    from flyteidl2.dataproxy import dataproxy_service_pb2

    from flyte.types import TypeEngine

    details = await (run_details.aio(run_name) if action_name is None else action_details.aio(run_name, action_name))
    session = current_session()
    data = await call(
        session,
        clients_for(session).dataproxy_service.GetActionData,
        dataproxy_service_pb2.GetActionDataRequest(action_id=details.id),
    )
    interface = details.task.task_template.interface
    result: dict[str, dict[str, Any]] = {}
    for kind, literals, variables in (
        ("inputs", data.inputs.literals, interface.inputs),
        ("outputs", data.outputs.literals, interface.outputs),
    ):
        types = TypeEngine.guess_python_types(variables)
        result[kind] = {n.name: await TypeEngine.to_python_value(n.value, types.get(n.name, Any)) for n in literals}
    return result


# --- rerun ---------------------------------------------------------------------------------


@syncify
async def rerun(run_name: str, new_name: str | None = None) -> run_definition_pb2.Action:
    """A new run of the same task version with the same inputs and run settings."""
    from flyteidl2.common import identifier_pb2
    from flyteidl2.dataproxy import dataproxy_service_pb2
    from flyteidl2.task import common_pb2
    from flyteidl2.workflow import run_service_pb2

    session = current_session()
    response = await call(
        session,
        clients_for(session).run_service.GetRunDetails,
        run_service_pb2.GetRunDetailsRequest(run_id=_run_id(run_name)),
        failure=lambda m: LookupError(f"no run {run_name!r} in {session.project}/{session.domain} ({m})"),
    )
    details = response.details
    root = details.action
    if not root.metadata.HasField("task") or not root.metadata.task.id.name:
        raise LookupError(f"run {run_name!r} did not run a deployed task; there is nothing to run again")
    data = await call(
        session,
        clients_for(session).dataproxy_service.GetActionData,
        dataproxy_service_pb2.GetActionDataRequest(action_id=root.id),
    )
    inputs = common_pb2.Inputs(literals=list(data.inputs.literals))
    request = run_service_pb2.CreateRunRequest(task_id=root.metadata.task.id, inputs=inputs, run_spec=details.run_spec)
    if new_name:
        request.run_id.CopyFrom(
            identifier_pb2.RunIdentifier(org=session.org, project=session.project, domain=session.domain, name=new_name)
        )
    else:
        request.project_id.CopyFrom(
            identifier_pb2.ProjectIdentifier(organization=session.org, name=session.project, domain=session.domain)
        )
    created = await call(session, clients_for(session).run_service.CreateRun, request)
    action: run_definition_pb2.Action = created.run.action
    return action
