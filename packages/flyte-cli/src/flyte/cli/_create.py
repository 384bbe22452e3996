"""``flyte create <noun>``: create resources."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import click

from flyte.cli._context import CLIContext, pass_cli_context


@click.group()
def create() -> None:
    """Create a resource: config, secret, project."""


@create.command("config")
@click.option("--endpoint", metavar="HOST:PORT", help="Backend address, e.g. localhost:8090.")
@click.option("--insecure", is_flag=True, help="Talk to the backend in plaintext.")
@click.option("--org", help="Organisation.")
@click.option("--project", help="Default project for runs and deployments.")
@click.option("--domain", help="Default domain, e.g. development.")
@click.option("--builder", "--image-builder", "builder", help="Image builder: local, remote or a plugin's name.")
@click.option("--registry", help="Registry that built images are pushed to.")
@click.option(
    "-o",
    "--output",
    type=click.Path(path_type=Path),
    default=Path(".flyte/config.yaml"),
    show_default=True,
    help="Where to write the file.",
)
@click.option("--force", is_flag=True, help="Overwrite an existing file.")
@pass_cli_context
def create_config(
    obj: CLIContext,
    endpoint: str | None,
    insecure: bool,
    org: str | None,
    project: str | None,
    domain: str | None,
    builder: str | None,
    registry: str | None,
    output: Path,
    force: bool,
) -> None:
    """Write a config file with the given settings (the first in the lookup order is ./config.yaml,
    then ./.flyte/config.yaml)."""
    from flyte.config import Config, ImageConfig, PlatformConfig, TaskConfig

    if output.is_dir():
        raise click.UsageError(f"--output {output} is a directory; give the path of the file to write")
    if output.exists() and not force:
        raise click.UsageError(f"{output} already exists; pass --force to overwrite it")
    cfg = Config(
        platform=PlatformConfig(endpoint=endpoint, insecure=insecure),
        task=TaskConfig(org=org, project=project, domain=domain),
        image=ImageConfig(builder=builder, registry=registry),
    )
    _write_atomically(output, cfg.to_yaml())
    click.echo(f"Wrote {output}")


@create.command("secret")
@click.argument("name")
@click.option("--value", help="The secret's value (prefer --from-file or stdin: a value here lands in shell history).")
@click.option(
    "--from-file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Read the value from this file (bytes as they are).",
)
@click.option(
    "--type",
    "secret_type",
    type=click.Choice(["regular", "image_pull"]),
    default="regular",
    show_default=True,
    help="What the secret is for.",
)
@click.option("-p", "--project", help="Project of the secret.")
@click.option("-d", "--domain", help="Domain of the secret.")
@pass_cli_context
def create_secret(
    obj: CLIContext,
    name: str,
    value: str | None,
    from_file: Path | None,
    secret_type: str,
    project: str | None,
    domain: str | None,
) -> None:
    """Create secret NAME; its value comes from --value, --from-file, or a hidden prompt."""
    import flyte.remote as remote
    from flyte.cli._backend import connect

    if value is not None and from_file is not None:
        raise click.UsageError("give the value with --value or --from-file, not both")
    data: str | bytes
    if from_file is not None:
        data = from_file.read_bytes()
    elif value is not None:
        data = value
    else:
        data = click.prompt(f"Value of secret {name}", hide_input=True)
    connect(obj, project=project, domain=domain)
    remote.Secret.create(name, data, type=secret_type)
    click.echo(f"Created secret {name}")


@create.command("project")
@click.argument("project_id", metavar="ID")
@click.option("--name", help="Display name (default: the id).")
@click.option("--description", default="", help="What the project is for.")
@click.option("--label", multiple=True, metavar="KEY=VALUE", help="A label (repeatable).")
@pass_cli_context
def create_project(
    obj: CLIContext, project_id: str, name: str | None, description: str, label: tuple[str, ...]
) -> None:
    """Create project ID."""
    import flyte.remote as remote
    from flyte.cli._backend import connect

    labels = {}
    for item in label:
        key, sep, val = item.partition("=")
        if not sep or not key:
            raise click.BadParameter(f"{item!r} is not KEY=VALUE", param_hint="--label")
        labels[key] = val
    connect(obj)
    remote.Project.create(project_id, name or project_id, description, labels or None)
    click.echo(f"Created project {project_id}")


def _write_atomically(path: Path, text: str) -> None:
    # A reader never sees half a config file: write beside it, then rename over it.
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w") as f:
            f.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
