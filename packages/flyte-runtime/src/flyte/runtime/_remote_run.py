"""Remote mode of ``flyte.run``: deploy the task from a code bundle, then CreateRun with its inputs;
or, for a deployed task (``flyte.remote.Task.get(...)``), CreateRun by reference.

Every RPC runs on the SDK's background loop (through :mod:`flyte.syncify`), where the returned
:class:`flyte.remote.Run` keeps working for ``wait()`` / ``outputs()`` whichever loop (or none)
called ``flyte.run``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from flyte.runtime._deploy import deploy_tasks, session_for
from flyte.syncify import syncify

if TYPE_CHECKING:
    from flyteidl2.task import common_pb2, task_definition_pb2

    from flyte.remote import Run as RemoteRun
    from flyte.remote import Session
    from flyte.remote import Task as RemoteTask
    from flyte.runtime._task import TaskTemplate


async def run_remote(
    task: TaskTemplate[Any, Any], args: tuple[Any, ...], kwargs: Mapping[str, Any], settings: Mapping[str, Any]
) -> RemoteRun:
    """Start ``task`` on the backend ``flyte.init`` named; returns without waiting for it."""
    return await _submit.aio(task, args, dict(kwargs), dict(settings))


async def run_remote_task(
    task: RemoteTask, args: tuple[Any, ...], kwargs: Mapping[str, Any], settings: Mapping[str, Any]
) -> RemoteRun:
    """Start the deployed ``task`` (resolving its version first) with these inputs."""
    return await _submit_reference.aio(task, args, dict(kwargs), dict(settings))


@syncify
async def _submit(
    task: TaskTemplate[Any, Any], args: tuple[Any, ...], kwargs: dict[str, Any], settings: dict[str, Any]
) -> RemoteRun:
    from flyte.runtime._io import inputs_message

    session = session_for(settings.get("project"), settings.get("domain"))
    values = task.interface.bind(args, kwargs, task.name)
    _, _, specs = await deploy_tasks([task], session, version=settings.get("version"))
    spec = specs[0]
    inputs = await inputs_message(task, values)
    return await _create_run(session, spec.task_id.to_proto(), inputs, settings)


@syncify
async def _submit_reference(
    task: RemoteTask, args: tuple[Any, ...], kwargs: dict[str, Any], settings: dict[str, Any]
) -> RemoteRun:
    from flyteidl2.task import common_pb2

    from flyte.errors import RemoteTaskUsageError
    from flyte.types import TypeEngine

    session = _reference_session(task, settings)
    details = await task.fetch.aio()
    variables = {v.key: v.value.type for v in details.interface.inputs.variables}
    names = list(variables)
    if len(args) > len(names):
        raise RemoteTaskUsageError(f"{details.name} takes {len(names)} inputs ({', '.join(names)}), got {len(args)}")
    given = dict(zip(names, args, strict=False))  # fewer args than inputs is fine
    for name, value in kwargs.items():
        if name not in variables:
            raise RemoteTaskUsageError(f"{details.name} has no input {name!r}; its inputs are {', '.join(names)}")
        if name in given:
            raise RemoteTaskUsageError(f"{details.name} got input {name!r} twice (by position and by name)")
        given[name] = value
    defaults = details.defaults()
    missing = [n for n in names if n not in given and n not in defaults]
    if missing:
        raise RemoteTaskUsageError(f"{details.name} needs inputs {', '.join(missing)}")
    python_types = TypeEngine.guess_python_types(details.interface.inputs)
    inputs = common_pb2.Inputs()
    for name in names:
        if name in given:
            literal = await TypeEngine.to_literal(given[name], python_types.get(name, Any), variables[name])
        else:
            literal = defaults[name]
        inputs.literals.add(name=name, value=literal)
    return await _create_run(session, details.task_id, inputs, settings)


def _reference_session(task: RemoteTask, settings: Mapping[str, Any]) -> Session:
    """flyte.init's backend when it named one, else the one the task was looked up on."""
    import dataclasses

    from flyte.runtime._init import current_state

    project, domain = settings.get("project"), settings.get("domain")
    if current_state().endpoint:
        return session_for(project, domain)
    session = task.session
    return dataclasses.replace(session, project=project or session.project, domain=domain or session.domain)


async def _create_run(
    session: Session,
    task_id: task_definition_pb2.TaskIdentifier,
    inputs: common_pb2.Inputs,
    settings: Mapping[str, Any],
) -> RemoteRun:
    from flyteidl2.common import identifier_pb2
    from flyteidl2.core import literals_pb2
    from flyteidl2.task import run_pb2
    from flyteidl2.workflow import run_service_pb2

    from flyte.errors import InitializationError, RemoteTaskNotFoundError
    from flyte.remote import Run
    from flyte.remote._session import call, clients_for

    run_spec = run_pb2.RunSpec(
        envs=run_pb2.Envs(
            values=[literals_pb2.KeyValuePair(key=k, value=v) for k, v in (settings.get("env_vars") or {}).items()]
        ),
        labels=run_pb2.Labels(values=dict(settings.get("labels") or {})),
        overwrite_cache=bool(settings.get("overwrite_cache")),
    )
    request = run_service_pb2.CreateRunRequest(task_id=task_id, inputs=inputs, run_spec=run_spec)
    if settings.get("name"):
        request.run_id.CopyFrom(
            identifier_pb2.RunIdentifier(
                org=session.org, project=session.project, domain=session.domain, name=settings["name"]
            )
        )
    else:
        request.project_id.CopyFrom(
            identifier_pb2.ProjectIdentifier(organization=session.org, name=session.project, domain=session.domain)
        )
    response = await call(
        session,
        clients_for(session).run_service.CreateRun,
        request,
        failure=lambda m: InitializationError("CreateRunFailed", "user", f"creating the run failed: {m}"),
        not_found=RemoteTaskNotFoundError,
    )
    return Run(response.run.action, session)
