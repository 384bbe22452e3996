"""``flyte get <noun>``: show resources (a list without a name, one in detail with it)."""

from __future__ import annotations

import dataclasses
import enum
from pathlib import Path
from typing import Any

import click

from flyte.cli._context import CLIContext, pass_cli_context
from flyte.cli._output import emit

project_option = click.option("-p", "--project", help="Project (default: the config's task.project).")
domain_option = click.option("-d", "--domain", help="Domain (default: the config's task.domain).")
limit_option = click.option(
    "--limit", type=click.IntRange(min=1), default=100, show_default=True, help="At most this many."
)


@click.group()
def get() -> None:
    """Show a resource: run, action, task, logs, io, project, secret, config, server."""


@get.command("config")
@pass_cli_context
def get_config(obj: CLIContext) -> None:
    """Show the configuration in effect: which file, and every resolved setting.

    Settings come from the config file (``-c`` or the first found by lookup), overridden by
    ``FLYTE_<SECTION>_<KEY>`` variables, overridden by ``--endpoint`` / ``--insecure``.
    """
    cfg = obj.config
    rows: list[dict[str, Any]] = [
        {"setting": "source", "value": str(cfg.source) if cfg.source else None},
        {"setting": "admin.endpoint", "value": cfg.platform.endpoint},
        {"setting": "admin.insecure", "value": cfg.platform.insecure},
        {"setting": "task.org", "value": cfg.task.org},
        {"setting": "task.project", "value": cfg.task.project},
        {"setting": "task.domain", "value": cfg.task.domain},
        {"setting": "image.builder", "value": cfg.image.builder},
        {"setting": "image.registry", "value": cfg.image.registry},
        {"setting": "image.image_refs", "value": dict(cfg.image.image_refs)},
    ]
    if obj.output_format == "json":
        emit([{r["setting"]: r["value"] for r in rows}], "json")
    else:
        emit(rows, "table")


@get.command("run")
@click.argument("name", required=False)
@project_option
@domain_option
@limit_option
@click.option("--in-phase", multiple=True, metavar="PHASE", help="Only runs in this phase (repeatable).")
@pass_cli_context
def get_run(
    obj: CLIContext, name: str | None, project: str | None, domain: str | None, limit: int, in_phase: tuple[str, ...]
) -> None:
    """List the runs (newest first), or show run NAME."""
    from flyte.cli import _records as records
    from flyte.cli._backend import connect

    connect(obj, project=project, domain=domain)
    if name is None:
        emit([records.run_row(a) for a in records.list_runs(limit, in_phase)], obj.output_format, title="runs")
        return
    details = records.run_details(name)
    row = records.run_row(details)
    row["error"] = records.error_text(details)
    emit([row], obj.output_format)


@get.command("action")
@click.argument("run_name", metavar="RUN")
@click.argument("action_name", metavar="[ACTION]", required=False)
@project_option
@domain_option
@pass_cli_context
def get_action(
    obj: CLIContext, run_name: str, action_name: str | None, project: str | None, domain: str | None
) -> None:
    """List the actions of run RUN, or show its action ACTION."""
    from flyte.cli import _records as records
    from flyte.cli._backend import connect

    connect(obj, project=project, domain=domain)
    if action_name is None:
        emit([records.action_row(a) for a in records.list_actions(run_name)], obj.output_format, title="actions")
        return
    details = records.action_details(run_name, action_name)
    row = records.action_row(details)
    row["error"] = records.error_text(details)
    emit([row], obj.output_format)


@get.command("task")
@click.argument("name", required=False)
@click.argument("version", required=False)
@project_option
@domain_option
@limit_option
@pass_cli_context
def get_task(
    obj: CLIContext, name: str | None, version: str | None, project: str | None, domain: str | None, limit: int
) -> None:
    """List the deployed tasks, the versions of task NAME, or show NAME VERSION."""
    from flyte.cli import _records as records
    from flyte.cli._backend import connect

    connect(obj, project=project, domain=domain)
    if version is None:
        tasks = records.list_tasks(limit, name)
        if name is not None and not tasks:
            raise LookupError(f"no task {name!r} is deployed")
        emit([records.task_row(t) for t in tasks], obj.output_format, title="tasks")
        return
    assert name is not None
    emit([records.task_row(records.task_details(name, version))], obj.output_format)


@get.command("io")
@click.argument("run_name", metavar="RUN")
@click.argument("action_name", metavar="[ACTION]", required=False)
@click.option("-i", "--inputs-only", is_flag=True, help="Only the inputs.")
@click.option("-o", "--outputs-only", is_flag=True, help="Only the outputs.")
@click.option(
    "--download",
    type=click.Path(file_okay=False, path_type=Path),
    metavar="DIR",
    help="Also copy the files, folders and DataFrames among them to DIR/inputs and DIR/outputs "
    "(an existing file is never overwritten).",
)
@click.option("--no-progress", is_flag=True, help="No progress bars for --download.")
@project_option
@domain_option
@pass_cli_context
def get_io(
    obj: CLIContext,
    run_name: str,
    action_name: str | None,
    inputs_only: bool,
    outputs_only: bool,
    download: Path | None,
    no_progress: bool,
    project: str | None,
    domain: str | None,
) -> None:
    """Show the inputs and outputs of run RUN (its root action) or of its action ACTION."""
    from flyte.cli import _records as records
    from flyte.cli._backend import connect

    if inputs_only and outputs_only:
        raise click.UsageError("--inputs-only and --outputs-only exclude each other")
    connect(obj, project=project, domain=domain)
    io = records.action_io(run_name, action_name)
    kinds = ["inputs"] if inputs_only else ["outputs"] if outputs_only else ["inputs", "outputs"]
    downloaded = _download_io(io, kinds, download, progress=not no_progress) if download is not None else None
    if obj.output_format == "json":
        record: dict[str, Any] = {k: {n: jsonable(v) for n, v in io[k].items()} for k in kinds}
        if downloaded is not None:
            record["downloaded"] = downloaded
        emit([record], "json")
        return
    rows = [{"kind": k.removesuffix("s"), "name": n, "value": repr(v)} for k in kinds for n, v in io[k].items()]
    emit(rows, "table", title="inputs or outputs")
    if downloaded is not None:
        for label, target in downloaded.items():
            click.echo(f"Downloaded {label} to {target}")
        if not downloaded:
            click.echo("Nothing to download: no files, folders or DataFrames among them", err=True)


def _download_io(io: dict[str, dict[str, Any]], kinds: list[str], dest: Path, progress: bool) -> dict[str, str]:
    """Download what ``--download`` asks for; ``{label: local path}``."""
    from flyte.cli._download import DownloadError, check_targets, download_all, stored_values
    from flyte.cli._progress import Activity, is_terminal
    from flyte.syncify import syncify

    values = stored_values(io, kinds, dest)
    try:
        check_targets(values, dest)
        with Activity(progress and is_terminal()) as activity:
            syncify(download_all)(values, activity.transfer)
    except DownloadError as e:
        raise click.ClickException(str(e)) from e
    return {v.label: str(v.target) for v in values}


@get.command("logs")
@click.argument("run_name", metavar="RUN")
@click.argument("action_name", metavar="[ACTION]", required=False)
@click.option("--attempt", type=click.IntRange(min=1), help="Attempt number (default: the last).")
@click.option("-f", "--follow", is_flag=True, help="Keep printing while the attempt runs.")
@project_option
@domain_option
@pass_cli_context
def get_logs(
    obj: CLIContext,
    run_name: str,
    action_name: str | None,
    attempt: int | None,
    follow: bool,
    project: str | None,
    domain: str | None,
) -> None:
    """Print the logs of run RUN (its root action) or of its action ACTION."""
    import flyte.remote as remote
    from flyte.cli._backend import connect

    connect(obj, project=project, domain=domain)
    target: Any = remote.Run.get(run_name) if action_name is None else remote.Action.get(run_name, action_name)
    for line in target.get_logs(attempt=attempt, follow=follow):
        click.echo(line.rstrip("\n"))


@get.command("project")
@click.argument("name", required=False)
@pass_cli_context
def get_project(obj: CLIContext, name: str | None) -> None:
    """List the projects, or show project NAME."""
    import flyte.remote as remote
    from flyte.cli._backend import connect

    connect(obj)
    projects = [remote.Project.get(name)] if name else list(remote.Project.listall())
    emit([project_row(p) for p in projects], obj.output_format, title="projects")


@get.command("secret")
@click.argument("name", required=False)
@project_option
@domain_option
@pass_cli_context
def get_secret(obj: CLIContext, name: str | None, project: str | None, domain: str | None) -> None:
    """List the secrets (names and types, never values), or show secret NAME."""
    import flyte.remote as remote
    from flyte.cli._backend import connect

    connect(obj, project=project, domain=domain)
    secrets = [remote.Secret.get(name)] if name else list(remote.Secret.listall())
    emit([secret_row(s) for s in secrets], obj.output_format, title="secrets")


def project_row(project: Any) -> dict[str, Any]:
    return {
        "id": project.id,
        "name": project.name,
        "description": project.description or None,
        "labels": dict(project.labels),
        "state": "archived" if project.archived else "active",
    }


def secret_row(secret: Any) -> dict[str, Any]:
    created = secret.created_at
    return {
        "name": secret.name,
        "type": secret.type,
        "project": secret.project or None,
        "domain": secret.domain or None,
        "created_at": created.isoformat(timespec="seconds") if created is not None else None,
    }


def jsonable(value: Any) -> Any:
    """A value JSON can carry: containers recursively, dataclasses and models as objects."""
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, enum.Enum):
        return value.name
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [jsonable(v) for v in value]
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return jsonable(dataclasses.asdict(value))
    if hasattr(value, "model_dump"):
        return jsonable(value.model_dump(mode="json"))
    path = getattr(value, "path", None)
    if isinstance(path, str):  # File, Dir, DataFrame references
        return path
    return repr(value)


def _server_command() -> click.Command:
    from flyte.cli._server import get_server

    return get_server


get.add_command(_server_command())
