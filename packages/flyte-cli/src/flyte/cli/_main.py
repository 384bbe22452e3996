"""The ``flyte`` command: global options, lazily loaded verbs, and one way errors are shown."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from flyte.cli._context import CLIContext
from flyte.cli._lazy import PLUGIN_GROUP, LazyCommand, LazyGroup
from flyte.cli._version import __version__

VERBS: dict[str, LazyCommand] = {
    "abort": LazyCommand("flyte.cli._abort:abort", "Abort a run or an action."),
    "build": LazyCommand("flyte.cli._build:build", "Build the images of a file's task environments."),
    "completion": LazyCommand(
        "flyte.cli._completion:completion", "Print the shell completion script (bash, zsh, fish)."
    ),
    "create": LazyCommand("flyte.cli._create:create", "Create a resource: config, secret, project."),
    "delete": LazyCommand("flyte.cli._delete:delete", "Delete a resource: secret."),
    "deploy": LazyCommand("flyte.cli._deploy:deploy", "Deploy the task environments of a file (or a folder)."),
    "get": LazyCommand(
        "flyte.cli._get:get", "Show a resource: run, action, task, logs, io, project, secret, config, server."
    ),
    "rerun": LazyCommand("flyte.cli._rerun:rerun", "Run a run's task again with the same inputs."),
    "run": LazyCommand(
        "flyte.cli._run:run", "Run a task from a Python file (--local: in this process) or a deployed one."
    ),
    "start": LazyCommand("flyte.cli._server:start", "Start the embedded Flyte server in the background."),
    "stop": LazyCommand("flyte.cli._server:stop", "Stop the embedded Flyte server."),
}


@click.group(
    cls=LazyGroup,
    lazy=VERBS,
    plugin_group=PLUGIN_GROUP,
    context_settings={"help_option_names": ["-h", "--help"]},
)
@click.version_option(__version__, "--version", prog_name="flyte")
@click.option("--endpoint", metavar="HOST:PORT", help="Backend to talk to; overrides the config file.")
@click.option("--insecure/--secure", default=None, help="Plaintext instead of TLS; overrides the config file.")
@click.option(
    "-c",
    "--config",
    "config_file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Config file to use instead of the ones found by lookup.",
)
@click.option("-v", "--verbose", count=True, help="More detail; shows tracebacks on errors.")
@click.option(
    "-of",
    "--output-format",
    type=click.Choice(["table", "json"]),
    default="table",
    show_default=True,
    help="How `get`, `deploy` and `build` print: rich tables, or JSON for scripts.",
)
@click.pass_context
def cli(
    ctx: click.Context,
    endpoint: str | None,
    insecure: bool | None,
    config_file: Path | None,
    verbose: int,
    output_format: str,
) -> None:
    """Flyte 2: run and manage durable workflows written in Python.

    Commands follow a verb-noun structure: `flyte get run`, `flyte create secret`.
    With no backend configured, `flyte run` starts the embedded one (`flyte stop server` stops it).
    """
    ctx.obj = CLIContext(endpoint, insecure, config_file, verbose, output_format)


def _verbose(argv: list[str]) -> bool:
    return any(a in ("-v", "--verbose") or (a.startswith("-v") and set(a[1:]) == {"v"}) for a in argv)


def main(argv: list[str] | None = None) -> None:
    """Console-script entry point: run the CLI, turning every error into a message and exit code 1."""
    args = sys.argv[1:] if argv is None else argv
    try:
        status = cli.main(args, prog_name="flyte", standalone_mode=False)
    except click.exceptions.Exit as e:
        sys.exit(e.exit_code)
    except click.ClickException as e:
        e.show()
        sys.exit(e.exit_code)
    except click.Abort:
        click.echo("Aborted.", err=True)
        sys.exit(130)
    except Exception as e:
        if _verbose(args):
            raise
        from flyte.errors import BaseRuntimeError

        message = (
            str(e)
            if isinstance(e, (BaseRuntimeError, ValueError, OSError, LookupError))
            else f"{type(e).__name__}: {e}"
        )
        click.echo(f"Error: {message}", err=True)
        click.echo("(run with -v for the traceback)", err=True)
        sys.exit(1)
    # Without standalone mode click returns the exit code of `--help` / `--version` as a value.
    sys.exit(status if isinstance(status, int) else 0)
