"""``flyte build FILE ENV``: build the images of a file's task environments."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from flyte.cli._context import CLIContext, pass_cli_context
from flyte.cli._output import emit
from flyte.cli._run import load_module


def environments_in(module: Any) -> dict[str, Any]:
    from flyte.runtime import TaskEnvironment

    return {v.name: v for v in vars(module).values() if isinstance(v, TaskEnvironment)}


@click.command("build")
@click.argument("file", type=click.Path(path_type=Path))
@click.argument("env_names", metavar="ENV...", nargs=-1)
@click.option("--force", is_flag=True, help="Rebuild even when the image exists.")
@click.option("--builder", help="Image builder (default: image.builder from the config, else local).")
@click.option("--no-progress", is_flag=True, help="Build output as plain lines on stderr instead of a progress bar.")
@pass_cli_context
def build(
    obj: CLIContext, file: Path, env_names: tuple[str, ...], force: bool, builder: str | None, no_progress: bool
) -> None:
    """Build the images of the environments ENV... defined in FILE (all of them when none is named).

    On a terminal a bar follows the build's steps with its last output line; otherwise (or with
    --no-progress) the build's output is printed to stderr as it comes.
    """
    from flyte.imagebuild import build_images

    envs = environments_in(load_module(file))
    if not envs:
        raise click.UsageError(f"{file} defines no TaskEnvironment")
    unknown = [n for n in env_names if n not in envs]
    if unknown:
        raise click.UsageError(f"no environment {unknown[0]!r} in {file}; its environments: {', '.join(sorted(envs))}")
    chosen = [envs[n] for n in env_names] if env_names else list(envs.values())
    from flyte.cli._progress import Activity, is_terminal

    with Activity(not no_progress and is_terminal()):
        cache = build_images(*chosen, force=force, builder=builder or obj.config.image.builder)
    emit([{"environment": name, "image": uri} for name, uri in sorted(cache.image_lookup.items())], obj.output_format)
