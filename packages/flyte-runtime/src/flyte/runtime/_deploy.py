"""``flyte.deploy``: bundle the source, upload it, and register tasks on a backend.

The public client's sequence (ARCHITECTURE.md, "Wire protocol and data plane"): SelectCluster,
CreateUploadLocation + HTTP PUT of the ``tgz`` code bundle, then DeployTask per task, each with
the ``a0`` container arguments that make the backend load the task from that bundle.
"""

from __future__ import annotations

import asyncio
import dataclasses
import sys
import tempfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from flyte.errors import CodeBundleError, DeploymentError, InitializationError
from flyte.runtime._controller import cache_version
from flyte.runtime._init import current_state
from flyte.syncify import syncify

if TYPE_CHECKING:
    from flyte.models import TaskSpec
    from flyte.remote import Session
    from flyte.runtime._environment import TaskEnvironment
    from flyte.runtime._task import TaskTemplate

RESOLVER = "flyte.runtime.DefaultTaskResolver"
# flyte-imagebuild declares the hook that builds missing images here (see `_ensure_images`).
DEPLOY_IMAGES_GROUP = "flyte.plugins.deploy_images"
# The embedded server runs a0 in-place and ignores the image; other backends need a real one.
PLACEHOLDER_IMAGE = "auto"
VERSION_DIGITS = 32


@dataclass(frozen=True)
class Deployment:
    """What ``flyte.deploy`` registered (or, with ``dry_run``, would register) for one environment.

    Attributes:
        environment: the ``TaskEnvironment``'s name.
        version: the version every task was registered with (the bundle digest unless given).
        bundle_uri: where the code bundle was uploaded (its local path for a dry run).
        tasks: the task specs, in the order the environment defines them.
        images: ``(uri, outcome)`` of each `Image` spec this deploy made sure of (``"built"``,
            ``"found in record"``, ``"not built: <why>"``...), shared by the environments of one
            deploy; empty when there was none or nothing was built.
    """

    environment: str
    version: str
    bundle_uri: str
    tasks: tuple[TaskSpec, ...]
    images: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class _Location:
    module: str
    variable: str
    file: Path


def _location(task: TaskTemplate[Any, Any]) -> _Location:
    func = getattr(task, "func", None)
    module_name = getattr(func, "__module__", None)
    module = sys.modules.get(module_name or "")
    file = getattr(module, "__file__", None)
    if module is None or file is None:
        raise CodeBundleError(
            f"{task.name} is not defined in a file (module {module_name!r}); remote runs load tasks from "
            "the code bundle, so define it in a .py file"
        )
    for variable, value in vars(module).items():
        if value is task:
            return _Location(module_name or "", variable, Path(file).resolve())
    raise CodeBundleError(f"{task.name} is not a module-level variable of {module_name}; a0 could not find it")


def _default_root(location: _Location) -> Path:
    """The folder the module's import path starts from (its own folder for a script)."""
    root = location.file.parent
    if location.module != "__main__":
        depth = location.module.count(".") + (1 if location.file.stem == "__init__" else 0)
        for _ in range(depth):
            root = root.parent
    return root


def _module_under(root: Path, location: _Location) -> str:
    """The module path ``a0`` imports from the unpacked bundle."""
    try:
        rel = location.file.relative_to(root)
    except ValueError:
        raise CodeBundleError(
            f"{location.file} is not inside the source root {root}; pass flyte.init(root_dir=...) "
            "a folder that contains every task's module"
        ) from None
    parts = list(rel.with_suffix("").parts)
    if parts and parts[-1] == "__init__":
        parts.pop()
    if not parts:
        raise CodeBundleError(f"cannot tell the module name of {location.file} under {root}")
    return ".".join(parts)


def a0_args(bundle_uri: str, module: str, variable: str, version: str) -> tuple[str, ...]:
    """The task container's command line (the a0 contract), with the backend's placeholders."""
    return (
        "a0",
        "--inputs", "{{.input}}",
        "--outputs-path", "{{.outputPrefix}}",
        "--version", version,
        "--raw-data-path", "{{.rawOutputDataPrefix}}",
        "--checkpoint-path", "{{.checkpointOutputPrefix}}",
        "--prev-checkpoint", "{{.prevCheckpointPrefix}}",
        "--run-name", "{{.runName}}",
        "--name", "{{.actionName}}",
        "--run-start-time", "{{.runStartTime}}",
        "--tgz", bundle_uri,
        "--dest", ".",
        "--resolver", RESOLVER, "mod", module, "instance", variable,
    )  # fmt: skip


def _image_uri(task: TaskTemplate[Any, Any]) -> str:
    image = task.image
    if isinstance(image, str):
        return image or PLACEHOLDER_IMAGE
    try:
        return str(image.uri)
    except Exception:
        return PLACEHOLDER_IMAGE


async def task_spec(
    task: TaskTemplate[Any, Any], session: Session, *, bundle_uri: str, module: str, variable: str, version: str
) -> TaskSpec:
    """The TaskSpec that makes a backend run ``task`` from the uploaded bundle."""
    from flyte.models import CodeBundle, SerializationContext, TaskID, TaskSpec
    from flyte.types import NativeInterface

    interface = NativeInterface.from_callable(task.func)  # type: ignore[attr-defined]
    env = task.parent_env
    # What a plugin's custom_config() may consult: where the task goes and which code it runs.
    sctx = SerializationContext(
        version=version,
        project=session.project,
        domain=session.domain,
        org=session.org or None,
        code_bundle=CodeBundle(computed_version=version, tgz=bundle_uri),
        root_dir=current_state().root_dir,
    )
    return TaskSpec(
        TaskID(task.name, version, org=session.org, project=session.project, domain=session.domain),
        interface=interface.to_proto(),
        image=_image_uri(task),
        args=a0_args(bundle_uri, module, variable, version),
        task_type=task.task_type,
        custom=task.custom_config(sctx),
        resources=task.resources,
        retries=task.retries,
        timeout=task.timeout,
        cache=task.cache,
        cache_version=cache_version(task) if task.cache.is_enabled() else "",
        secrets=task.secrets,
        env_vars=dict(task.env_vars) or None,
        pod_template=task.pod_template if not isinstance(task.pod_template, str) else None,
        reuse_policy=task.reusable,
        interruptible=task.interruptible,
        report=task.report,
        docs=task.docs,
        short_name=task.short_name,
        environment=env.name if env is not None else "",
        default_inputs=tuple(await interface.default_inputs()),
        triggers=task.triggers,
        links=task.links,
    )


async def deploy_tasks(
    tasks: Sequence[TaskTemplate[Any, Any]],
    session: Session,
    *,
    version: str | None = None,
    dry_run: bool = False,
    root_dir: Path | None = None,
) -> tuple[str, str, list[TaskSpec]]:
    """Bundle, upload and register ``tasks``; returns (version, bundle uri, specs)."""
    from flyte.runtime._bundle import build_tgz_bundle

    if not tasks:
        raise DeploymentError("nothing to deploy: no tasks")
    locations = [_location(t) for t in tasks]
    root = (root_dir or current_state().root_dir or _default_root(locations[0])).resolve()
    modules = [_module_under(root, loc) for loc in locations]
    out_dir = Path(tempfile.gettempdir()) / "flyte" / "bundles"
    bundle = await asyncio.to_thread(build_tgz_bundle, root, out_dir)
    version = version or bundle.digest[:VERSION_DIGITS]
    if dry_run:
        uri = str(bundle.path)
    else:
        from flyte.remote._data import upload_file_in

        uri = await upload_file_in(session, bundle.path)
    specs = [
        await task_spec(t, session, bundle_uri=uri, module=m, variable=loc.variable, version=version)
        for t, m, loc in zip(tasks, modules, locations, strict=True)
    ]
    if not dry_run:
        await _register(session, specs)
    return version, uri, specs


async def _register(session: Session, specs: Iterable[TaskSpec]) -> None:
    from flyteidl2.task import task_service_pb2

    from flyte.remote._session import call, clients_for

    service = clients_for(session).task_service
    for spec in specs:
        request = task_service_pb2.DeployTaskRequest(task_id=spec.task_id.to_proto(), spec=spec.to_proto())
        name = spec.task_id.name
        await call(session, service.DeployTask, request, failure=lambda m: DeploymentError(f"deploying {name}: {m}"))  # noqa: B023


def session_for(project: str | None = None, domain: str | None = None) -> Session:
    """The backend ``flyte.init`` configured (made the ``flyte.remote`` default too)."""
    from flyte.remote import configure

    state = current_state()
    if not state.endpoint:
        raise InitializationError(
            "NoEndpoint",
            "user",
            "remote runs and deploys need a backend: call flyte.init(endpoint=..., insecure=True) "
            "(`flyte start server` starts a local one)",
        )
    session = configure(
        state.endpoint, insecure=state.insecure, org=state.org, project=state.project, domain=state.domain
    )
    if project or domain:
        session = dataclasses.replace(session, project=project or session.project, domain=domain or session.domain)
    return session


def _offline_session() -> Session:
    """The scope a dry run builds specs in when no backend is configured: it contacts none."""
    from flyte.remote._session import Session

    state = current_state()
    scope = {k: v for k, v in (("org", state.org), ("project", state.project), ("domain", state.domain)) if v}
    return Session(endpoint="", insecure=state.insecure, **scope)


def _environments(envs: Iterable[TaskEnvironment]) -> list[TaskEnvironment]:
    """``envs`` and everything they depend on, each once, dependencies first."""
    seen: dict[str, TaskEnvironment] = {}

    def visit(env: TaskEnvironment) -> None:
        if env.name in seen:
            return
        seen[env.name] = env
        for dep in env.depends_on:
            visit(dep)

    for env in envs:
        visit(env)
    return list(seen.values())


def _deploy_images_hook() -> Any:
    """flyte-imagebuild's ``ensure_images`` when it is installed, else None."""
    from importlib.metadata import entry_points

    for ep in entry_points(group=DEPLOY_IMAGES_GROUP):
        return ep.load()
    return None


async def _ensure_images(
    envs: Sequence[TaskEnvironment], build: bool | None, builder: str | None
) -> tuple[tuple[str, str], ...]:
    """Build the environments' `Image` specs that do not exist yet (see `deploy` for the rule)."""
    images = [env.image for env in envs if not isinstance(env.image, str)]
    images += [t.image for env in envs for t in env.tasks.values() if not isinstance(t.image, str)]
    if build is False or not images:
        return ()
    hook = _deploy_images_hook()
    if hook is None:
        if build:
            raise DeploymentError(
                "build=True needs flyte-imagebuild to build images; install it (pip install flyte-imagebuild)"
            )
        return ()
    outcomes = await asyncio.to_thread(hook, images, builder=builder, required=bool(build))
    return tuple((o.uri, o.outcome) for o in outcomes)


@syncify
async def deploy(
    *envs: TaskEnvironment,
    version: str | None = None,
    dry_run: bool = False,
    build: bool | None = None,
    builder: str | None = None,
) -> list[Deployment]:
    """Register every task of ``envs`` (and the environments they depend on) on the backend.

    The source root (``flyte.init(root_dir=...)``, else the folder the first task's module is
    imported from) is bundled and uploaded once; each task is registered with ``version`` (the
    bundle's digest unless given). ``dry_run`` builds the specs without contacting the backend
    and builds no image.

    Images: an environment's (or task's) image given as a string (a URI, or ``"auto"``) is
    registered as it is. An ``Image`` spec is built first when it does not exist yet (a present
    one costs only the existence check), with ``builder`` (default ``$FLYTE_IMAGE_BUILDER``,
    else ``"local"``), when flyte-imagebuild is installed. ``build=None`` (the default) skips,
    with a note in ``Deployment.images``, a local build for which no Docker engine answers (the
    embedded server's default executors ignore images); ``build=True`` builds or fails;
    ``build=False`` builds nothing.

    Example:
        >>> flyte.init(endpoint="localhost:8090", insecure=True)  # doctest: +SKIP
        >>> [d.version for d in flyte.deploy(env)]  # doctest: +SKIP
    """
    if not envs:
        raise DeploymentError("flyte.deploy needs at least one TaskEnvironment")
    session = _offline_session() if dry_run and not current_state().endpoint else session_for()
    all_envs = _environments(envs)
    tasks = [t for env in all_envs for t in env.tasks.values()]
    if not tasks:
        return [Deployment(env.name, version or "", "", ()) for env in all_envs]
    images = () if dry_run else await _ensure_images(all_envs, build, builder)
    chosen, uri, specs = await deploy_tasks(tasks, session, version=version, dry_run=dry_run)
    by_env: dict[str, list[TaskSpec]] = {env.name: [] for env in all_envs}
    for spec in specs:
        by_env[spec.environment].append(spec)
    return [Deployment(name, chosen, uri, tuple(found), images) for name, found in by_env.items()]
