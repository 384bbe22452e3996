"""``flyte delete secret``: remove resources."""

from __future__ import annotations

import click

from flyte.cli._context import CLIContext, pass_cli_context


@click.group()
def delete() -> None:
    """Delete a resource: secret."""


@delete.command("secret")
@click.argument("name")
@click.option("-p", "--project", help="Project of the secret.")
@click.option("-d", "--domain", help="Domain of the secret.")
@pass_cli_context
def delete_secret(obj: CLIContext, name: str, project: str | None, domain: str | None) -> None:
    """Delete secret NAME."""
    import flyte.remote as remote
    from flyte.cli._backend import connect

    connect(obj, project=project, domain=domain)
    remote.Secret.delete(name)
    click.echo(f"Deleted secret {name}")
