"""``flyte abort run|action``: stop work on the backend."""

from __future__ import annotations

import click

from flyte.cli._context import CLIContext, pass_cli_context

reason_option = click.option("--reason", default="aborted from the flyte CLI", show_default=True, help="Why.")


@click.group()
def abort() -> None:
    """Abort a run or one of its actions."""


@abort.command("run")
@click.argument("name")
@reason_option
@click.option("-p", "--project", help="Project of the run.")
@click.option("-d", "--domain", help="Domain of the run.")
@pass_cli_context
def abort_run(obj: CLIContext, name: str, reason: str, project: str | None, domain: str | None) -> None:
    """Abort run NAME and every action still running in it."""
    import flyte.remote as remote
    from flyte.cli._backend import connect

    connect(obj, project=project, domain=domain)
    run = remote.Run.get(name)
    if run.done():
        click.echo(f"Run {name} already ended {run.phase.lower()}; nothing to abort")
        return
    run.abort(reason)
    click.echo(f"Aborted run {name}")


@abort.command("action")
@click.argument("run_name", metavar="RUN")
@click.argument("action_name", metavar="ACTION")
@reason_option
@click.option("-p", "--project", help="Project of the run.")
@click.option("-d", "--domain", help="Domain of the run.")
@pass_cli_context
def abort_action(
    obj: CLIContext, run_name: str, action_name: str, reason: str, project: str | None, domain: str | None
) -> None:
    """Abort action ACTION of run RUN (and the actions it started)."""
    import flyte.remote as remote
    from flyte.cli._backend import connect

    connect(obj, project=project, domain=domain)
    action = remote.Action.get(run_name=run_name, name=action_name)
    if action.done():
        click.echo(f"Action {action_name} of run {run_name} already ended {action.phase.lower()}; nothing to abort")
        return
    action.abort(reason)
    click.echo(f"Aborted action {action_name} of run {run_name}")
