"""The checks and look-ups RPC handlers share: validated identifiers, the task a run refers to,
inputs that fit the task, and runs / actions that must exist."""

from __future__ import annotations

from dataclasses import dataclass

from flyteidl2.common import identifier_pb2
from flyteidl2.task import common_pb2, task_definition_pb2

from flyte.models import TaskID
from flyte.server import _names as names
from flyte.server._rpc_errors import invalid_argument, not_found
from flyte.server._state import ServerState
from flyte.server._store import ActionRow, RunRow


@dataclass(frozen=True)
class RunKey:
    org: str
    project: str
    domain: str
    name: str


def task_key(pb: task_definition_pb2.TaskIdentifier) -> TaskID:
    return TaskID(
        org=names.check_org(pb.org),
        project=names.check_project(pb.project),
        domain=names.check_domain(pb.domain),
        name=names.check_task_name(pb.name),
        version=names.check_version(pb.version),
    )


def run_key(pb: identifier_pb2.RunIdentifier) -> RunKey:
    return RunKey(
        org=names.check_org(pb.org),
        project=names.check_project(pb.project),
        domain=names.check_domain(pb.domain),
        name=names.check_run_name(pb.name),
    )


def scope(pb: identifier_pb2.ProjectIdentifier) -> tuple[str, str, str]:
    return names.check_org(pb.organization), names.check_project(pb.name), names.check_domain(pb.domain)


async def find_run(state: ServerState, pb: identifier_pb2.RunIdentifier) -> RunRow:
    key = run_key(pb)
    run = await state.store.get_run(key.org, key.project, key.domain, key.name)
    if run is None:
        raise not_found(f"run {key.project}/{key.domain}/{key.name} does not exist")
    return run


async def find_action(state: ServerState, pb: identifier_pb2.ActionIdentifier) -> ActionRow:
    key = run_key(pb.run)
    name = names.check_action_name(pb.name)
    action = await state.store.get_action(key.org, key.project, key.domain, key.name, name)
    if action is None:
        raise not_found(f"action {name} of run {key.project}/{key.domain}/{key.name} does not exist")
    return action


@dataclass(frozen=True)
class ResolvedTask:
    """The task a run executes: a deployed version, or a spec sent with the request."""

    task_id: TaskID
    spec: task_definition_pb2.TaskSpec


async def resolve_task(
    state: ServerState,
    task_id: task_definition_pb2.TaskIdentifier | None,
    spec: task_definition_pb2.TaskSpec | None,
) -> ResolvedTask:
    """Raises INVALID_ARGUMENT (no task, bad ids) or NOT_FOUND (a task id never deployed)."""
    if task_id is not None:
        key = task_key(task_id)
        row = await state.store.get_task(key.org, key.project, key.domain, key.name, key.version)
        if row is None:
            raise not_found(f"task {key.name} version {key.version} is not deployed in {key.project}/{key.domain}")
        return ResolvedTask(key, task_definition_pb2.TaskSpec.FromString(row.spec))
    if spec is None:
        raise invalid_argument("the request names no task: set task_id or task_spec")
    return ResolvedTask(spec_task_id(spec, None), spec)


def spec_task_id(spec: task_definition_pb2.TaskSpec, expected: TaskID | None) -> TaskID:
    """The identity in a spec's template, checked against ``expected`` when given."""
    if not spec.HasField("task_template"):
        raise invalid_argument("task_spec has no task_template")
    template_id = spec.task_template.id
    if expected is None:
        return task_key(
            task_definition_pb2.TaskIdentifier(
                org=template_id.org,
                project=template_id.project,
                domain=template_id.domain,
                name=template_id.name,
                version=template_id.version,
            )
        )
    if template_id.name and (template_id.name, template_id.version) != (expected.name, expected.version):
        raise invalid_argument(
            f"task_id names {expected.name}@{expected.version} but the spec's template is "
            f"{template_id.name}@{template_id.version}"
        )
    return expected


def check_inputs(spec: task_definition_pb2.TaskSpec, inputs: common_pb2.Inputs) -> None:
    """Every input must be one the task declares, and appear once."""
    template = spec.task_template
    declared = {v.key for v in template.interface.inputs.variables} if template.HasField("interface") else None
    seen: set[str] = set()
    for named in inputs.literals:
        if declared is not None and named.name not in declared:
            raise invalid_argument(f"input {named.name!r} is not an input of task {template.id.name}")
        if named.name in seen:
            raise invalid_argument(f"input {named.name!r} is given twice")
        seen.add(named.name)
