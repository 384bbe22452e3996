"""``flyte rerun RUN``: run the same task version again with the same inputs."""

from __future__ import annotations

import click

from flyte.cli._context import CLIContext, pass_cli_context


@click.command("rerun")
@click.argument("name", metavar="RUN")
@click.option("--name", "new_name", help="Name of the new run (default: generated).")
@click.option("-p", "--project", help="Project of the run.")
@click.option("-d", "--domain", help="Domain of the run.")
@click.option("--follow", is_flag=True, help="Stream the new run's logs.")
@click.option("--no-wait", is_flag=True, help="Submit and return; do not watch the new run.")
@click.option("--no-progress", is_flag=True, help="Plain lines instead of the live view.")
@pass_cli_context
def rerun(
    obj: CLIContext,
    name: str,
    new_name: str | None,
    project: str | None,
    domain: str | None,
    follow: bool,
    no_wait: bool,
    no_progress: bool,
) -> None:
    """Start a new run of RUN's task version with RUN's inputs, environment and labels."""
    import flyte.remote as remote
    from flyte.cli import _records as records
    from flyte.cli._backend import connect
    from flyte.cli._run import follow_run

    backend = connect(obj, project=project, domain=domain)
    action = records.rerun(name, new_name)
    run = remote.Run.get(action.id.run.name)
    click.echo(f"Run {run.name} (again of {name}) submitted to {backend.endpoint}: {run.url}")
    if not no_wait:
        follow_run(run, follow=follow, live=not no_progress)
