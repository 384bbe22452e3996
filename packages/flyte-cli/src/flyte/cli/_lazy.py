"""A click group whose subcommands are imported only when they run, plus plugin commands.

`flyte --help` must not import the runtime, grpc or rich: each subcommand is registered as a
``"module:attribute"`` string with its one-line help, and the module is imported only when that
command is invoked (or its own ``--help`` is asked for).

Plugins add top-level commands through the entry-point group ``flyte.plugins.cli.commands``
(``name = "module:attribute"`` naming a click command). The installed metadata is read only
when a command name is not a built-in one, or for the command list (``--help``, completion);
a plugin module is imported only when its command runs or its help line is shown. A plugin that
fails to load is reported on stderr and skipped; the rest of the CLI keeps working.
"""

from __future__ import annotations

import importlib
import os
import sys
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import click

if TYPE_CHECKING:
    from importlib.metadata import EntryPoint

PLUGIN_GROUP = "flyte.plugins.cli.commands"


@dataclass(frozen=True)
class LazyCommand:
    target: str  # "flyte.cli._config:get_config"
    help: str

    def load(self) -> click.Command:
        module, _, attr = self.target.partition(":")
        command = getattr(importlib.import_module(module), attr)
        if not isinstance(command, click.Command):
            raise TypeError(f"{self.target} is not a click command")
        return command


def _declares_group(group: str) -> bool:
    """Whether any installed distribution's ``entry_points.txt`` has a ``[group]`` section.

    A plain scan of the ``*.dist-info`` folders on ``sys.path``: without plugins, ``flyte --help``
    then never imports ``importlib.metadata`` (with its email, zipfile and csv imports), which
    costs more than the rest of the help.
    """
    header = f"[{group}]"
    for entry in sys.path:
        try:
            names = os.listdir(entry or ".")
        except OSError:
            continue
        for name in names:
            if not name.endswith((".dist-info", ".egg-info")):
                continue
            try:
                with open(os.path.join(entry or ".", name, "entry_points.txt"), encoding="utf-8") as f:
                    if header in f.read():
                        return True
            except OSError:
                continue
    return False


def plugin_entry_points(group: str = PLUGIN_GROUP) -> dict[str, EntryPoint]:
    """The installed plugin commands by name (the first installed wins on a clash)."""
    if not _declares_group(group):
        return {}
    from importlib.metadata import entry_points

    found: dict[str, EntryPoint] = {}
    for ep in entry_points(group=group):
        found.setdefault(ep.name, ep)
    return found


def load_plugin(ep: EntryPoint) -> click.Command | None:
    """The plugin's command, or None (with a line on stderr) when it cannot be loaded."""
    dist = getattr(ep.dist, "name", None) or "an unknown distribution"
    try:
        command = ep.load()
    except Exception as e:
        click.echo(f"Warning: the flyte CLI plugin {ep.name!r} ({dist}, {ep.value}) failed to load: {e}", err=True)
        return None
    if not isinstance(command, click.Command):
        click.echo(f"Warning: the flyte CLI plugin {ep.name!r} ({dist}) is not a click command: {ep.value}", err=True)
        return None
    return command


class LazyGroup(click.Group):
    """A group of lazily imported subcommands, plus any added the usual way and plugin ones."""

    def __init__(
        self, *args: Any, lazy: dict[str, LazyCommand] | None = None, plugin_group: str | None = None, **kwargs: Any
    ):
        super().__init__(*args, **kwargs)
        self.lazy = dict(lazy or {})
        self.plugin_group = plugin_group
        self._plugins: dict[str, EntryPoint] | None = None

    def plugins(self) -> dict[str, EntryPoint]:
        """Plugin commands whose names are not taken by a built-in one (read once)."""
        if self.plugin_group is None:
            return {}
        if self._plugins is None:
            builtin = {*self.lazy, *self.commands}
            self._plugins = {n: ep for n, ep in plugin_entry_points(self.plugin_group).items() if n not in builtin}
        return self._plugins

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *self.lazy, *self.plugins()})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name in self.lazy:
            return self.lazy[cmd_name].load()
        command = super().get_command(ctx, cmd_name)
        if command is not None:
            return command
        ep = self.plugins().get(cmd_name)
        return load_plugin(ep) if ep is not None else None

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        # The short help of lazy commands comes from the table: listing them imports nothing.
        rows = []
        for name in self.list_commands(ctx):
            if name in self.lazy:
                rows.append((name, self.lazy[name].help))
                continue
            command = self.get_command(ctx, name)
            if command is not None and not command.hidden:
                rows.append((name, command.get_short_help_str(limit=formatter.width)))
        if rows:
            with formatter.section("Commands"):
                formatter.write_dl(rows)
