"""``flyte deploy PATH [ENV...]``: register task environments on the backend.

The file (or, with ``-r``, every Python file under a folder) is imported, its
``TaskEnvironment`` objects collected, and ``flyte.deploy`` bundles the source once, uploads it
and registers every task of the chosen environments and the environments they depend on.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from flyte.cli._context import CLIContext, pass_cli_context
from flyte.cli._output import emit
from flyte.cli._run import load_module

# Folders a recursive deploy never enters: tooling, environments and caches, not user code.
_SKIPPED_DIRS = frozenset({"__pycache__", "node_modules", "site-packages", "venv", "build", "dist"})


def python_files(folder: Path) -> list[Path]:
    """The ``.py`` files under ``folder``, skipping hidden folders, environments and caches."""
    found = []
    for path in sorted(folder.rglob("*.py")):
        parts = path.relative_to(folder).parts[:-1]
        if any(p.startswith(".") or p in _SKIPPED_DIRS for p in parts):
            continue
        found.append(path)
    return found


def module_name(root: Path, file: Path) -> str:
    """The dotted module name of ``file`` imported from ``root`` (``a/b/c.py`` -> ``a.b.c``)."""
    parts = list(file.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts) or file.stem


def environments(modules: list[Any]) -> dict[str, Any]:
    """Every TaskEnvironment the modules define, by name; two different ones of one name are an error."""
    from flyte.runtime import TaskEnvironment

    found: dict[str, Any] = {}
    for module in modules:
        for value in vars(module).values():
            if not isinstance(value, TaskEnvironment):
                continue
            other = found.setdefault(value.name, value)
            if other is not value:
                raise click.UsageError(
                    f"two different environments are named {value.name!r} ({module.__name__} and another module); "
                    "environment names must be unique"
                )
    return found


@click.command("deploy")
@click.argument("path", type=click.Path(exists=True, path_type=Path))
@click.argument("env_names", metavar="[ENV]...", nargs=-1)
@click.option("--version", help="Version of every task (default: the code bundle's digest).")
@click.option("--dry-run", "--dryrun", "dry_run", is_flag=True, help="Build the specs; upload and register nothing.")
@click.option("--all", "all_envs", is_flag=True, help="Deploy every environment in the file(s).")
@click.option("-r", "--recursive", is_flag=True, help="PATH is a folder: deploy from every Python file under it.")
@click.option("-p", "--project", help="Project to deploy to (default: the config's task.project).")
@click.option("-d", "--domain", help="Domain to deploy to (default: the config's task.domain).")
@click.option(
    "--build/--no-build",
    default=None,
    help="Images: --build builds every missing Image spec or fails; --no-build builds none. "
    "Default: build missing ones, skipping (with a note) local builds when no Docker engine answers.",
)
@click.option("--builder", help="Image builder (default: image.builder from the config, else local).")
@click.option("--no-progress", is_flag=True, help="No spinner or progress bars (also when stdout is not a terminal).")
@pass_cli_context
def deploy(
    obj: CLIContext,
    path: Path,
    env_names: tuple[str, ...],
    version: str | None,
    dry_run: bool,
    all_envs: bool,
    recursive: bool,
    project: str | None,
    domain: str | None,
    build: bool | None,
    builder: str | None,
    no_progress: bool,
) -> None:
    """Deploy the environments ENV... of the Python file PATH (or every one, with --all / -r).

    \b
    flyte deploy hello.py hello_env
    flyte deploy --all hello.py
    flyte deploy --recursive ./src

    Images given as a string (a URI, or "auto") are registered as they are. An Image spec that
    does not exist yet is built first with the configured builder (a present one costs only the
    existence check). With the local builder and no Docker engine answering, the build is skipped
    with a note: the embedded server's default executors run tasks in-process and ignore images.
    --build makes a missing build an error; --no-build and --dry-run build nothing.
    """
    from flyte.cli._backend import Backend, init_runtime, resolve

    root = path.resolve() if recursive else path.resolve().parent
    if recursive:
        if not path.is_dir():
            raise click.UsageError(f"--recursive needs a folder; {path} is a file")
        files = python_files(root)
        if not files:
            raise click.UsageError(f"no Python files under {path}")
        modules = [load_module(f, module=module_name(root, f), root=root) for f in files]
    else:
        if path.is_dir():
            raise click.UsageError(f"{path} is a folder; pass a Python file, or --recursive to deploy from a folder")
        modules = [load_module(path)]
    envs = environments(modules)
    if not envs:
        raise click.UsageError(f"{path} defines no TaskEnvironment")
    unknown = [n for n in env_names if n not in envs]
    if unknown:
        raise click.UsageError(f"no environment {unknown[0]!r} in {path}; its environments: {', '.join(sorted(envs))}")
    if not env_names and not (all_envs or recursive):
        raise click.UsageError(
            f"name the environments to deploy or pass --all; the environments in {path}: {', '.join(sorted(envs))}"
        )
    chosen = [envs[n] for n in env_names] if env_names else list(envs.values())

    if dry_run:
        cfg = obj.config
        backend = Backend(
            cfg.platform.endpoint or "",  # a dry run contacts no backend, so none needs to exist
            cfg.platform.insecure,
            cfg.task.org,
            project or cfg.task.project,
            domain or cfg.task.domain,
            False,
        )
    else:
        backend = resolve(obj, start=True, project=project, domain=domain)
    init_runtime(backend, root_dir=root)
    import flyte.runtime as runtime
    from flyte.cli._progress import Activity, is_terminal

    with (
        Activity(not no_progress and is_terminal()) as activity,
        activity.step("Building missing images, bundling and uploading the code, registering the tasks"),
    ):
        deployments = runtime.deploy(
            *chosen,
            version=version,
            dry_run=dry_run,
            build=build,
            builder=builder or obj.config.image.builder,
        )
    for uri, outcome in deployments[0].images if deployments else ():
        click.echo(f"Image {uri}: {outcome}", err=True)
    rows = [
        {
            "environment": d.environment,
            "task": spec.task_id.name,
            "version": d.version,
            "image": spec.image,
        }
        for d in deployments
        for spec in d.tasks
    ]
    emit(rows, obj.output_format, title="tasks")
    if obj.output_format != "json":
        from flyte.remote import current_session

        tasks = len(rows)
        session = current_session()  # the scope flyte.init settled on, defaults filled in
        where = f"{session.project}/{session.domain}"
        if dry_run:
            click.echo(f"Dry run: {tasks} task(s) of {len(deployments)} environment(s) would be deployed to {where}")
        else:
            click.echo(f"Deployed {tasks} task(s) of {len(deployments)} environment(s) to {backend.endpoint} ({where})")
