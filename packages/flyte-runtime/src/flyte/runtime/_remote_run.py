"""Remote mode of ``flyte.run``: deploy the task from a code bundle, then CreateRun with its inputs.

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
    from flyte.remote import Run as RemoteRun
    from flyte.runtime._task import TaskTemplate


async def run_remote(
    task: TaskTemplate[Any, Any], args: tuple[Any, ...], kwargs: Mapping[str, Any], settings: Mapping[str, Any]
) -> RemoteRun:
    """Start ``task`` on the backend ``flyte.init`` named; returns without waiting for it."""
    return await _submit.aio(task, args, dict(kwargs), dict(settings))


@syncify
async def _submit(
    task: TaskTemplate[Any, Any], args: tuple[Any, ...], kwargs: dict[str, Any], settings: dict[str, Any]
) -> RemoteRun:
    from flyteidl2.common import identifier_pb2
    from flyteidl2.core import literals_pb2
    from flyteidl2.task import common_pb2, run_pb2
    from flyteidl2.workflow import run_service_pb2

    from flyte.errors import InitializationError
    from flyte.remote import Run
    from flyte.remote._session import call, clients_for
    from flyte.types import NativeInterface, TypeEngine

    session = session_for(settings.get("project"), settings.get("domain"))
    values = task.interface.bind(args, kwargs, task.name)
    _, _, specs = await deploy_tasks([task], session, version=settings.get("version"))
    spec = specs[0]
    types = NativeInterface.from_callable(task.func).inputs  # type: ignore[attr-defined]
    inputs = common_pb2.Inputs()
    for name, value in values.items():
        python_type = types[name][0]
        literal = await TypeEngine.to_literal(value, python_type, TypeEngine.to_literal_type(python_type))
        inputs.literals.add(name=name, value=literal)
    run_spec = run_pb2.RunSpec(
        envs=run_pb2.Envs(
            values=[literals_pb2.KeyValuePair(key=k, value=v) for k, v in (settings.get("env_vars") or {}).items()]
        ),
        labels=run_pb2.Labels(values=dict(settings.get("labels") or {})),
        overwrite_cache=bool(settings.get("overwrite_cache")),
    )
    request = run_service_pb2.CreateRunRequest(task_id=spec.task_id.to_proto(), inputs=inputs, run_spec=run_spec)
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
    )
    return Run(response.run.action, session)
