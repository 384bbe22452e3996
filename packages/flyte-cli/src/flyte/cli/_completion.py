"""``flyte completion bash|zsh|fish``: the script that makes the shell complete flyte commands.

Completion itself is click's: the shell calls ``flyte`` with ``_FLYTE_COMPLETE`` set, and the
commands answer, ``flyte run FILE <TAB>`` with the tasks defined in FILE.
"""

from __future__ import annotations

import click

INSTALL = {
    "bash": 'eval "$(flyte completion bash)"   # in ~/.bashrc',
    "zsh": 'eval "$(flyte completion zsh)"    # in ~/.zshrc',
    "fish": "flyte completion fish > ~/.config/fish/completions/flyte.fish",
}


@click.command("completion")
@click.argument("shell", type=click.Choice(sorted(INSTALL)))
def completion(shell: str) -> None:
    """Print the completion script for SHELL.

    \\b
    bash: eval "$(flyte completion bash)"    (in ~/.bashrc)
    zsh:  eval "$(flyte completion zsh)"     (in ~/.zshrc)
    fish: flyte completion fish > ~/.config/fish/completions/flyte.fish
    """
    from click.shell_completion import get_completion_class

    from flyte.cli._main import cli

    cls = get_completion_class(shell)
    assert cls is not None  # every choice is a shell click knows
    click.echo(cls(cli, {}, "flyte", "_FLYTE_COMPLETE").source())
