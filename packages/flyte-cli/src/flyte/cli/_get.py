"""``flyte get <noun>``: show resources."""

from __future__ import annotations

from typing import Any

import click

from flyte.cli._context import CLIContext, pass_cli_context
from flyte.cli._output import emit


@click.group()
def get() -> None:
    """Show a resource."""


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


def _server_command() -> click.Command:
    from flyte.cli._server import get_server

    return get_server


get.add_command(_server_command())
