"""``flyte create <noun>``: create resources."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import click

from flyte.cli._context import CLIContext, pass_cli_context


@click.group()
def create() -> None:
    """Create a resource."""


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
