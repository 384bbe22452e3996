"""What every command shares: the global options and the configuration they resolve to."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import click

if TYPE_CHECKING:
    from flyte.config import Config


@dataclass
class CLIContext:
    """Global options of the ``flyte`` command; ``config`` is read on first use."""

    endpoint: str | None = None
    insecure: bool | None = None
    config_file: Path | None = None
    verbose: int = 0
    output_format: str = "table"
    _config: Config | None = field(default=None, repr=False)

    @property
    def config(self) -> Config:
        """The config file and ``FLYTE_*`` variables, with ``--endpoint`` / ``--insecure`` on top."""
        if self._config is None:
            from flyte.config import Config

            cfg = Config.auto(self.config_file)
            platform = cfg.platform
            if self.endpoint is not None:
                platform = dataclasses.replace(platform, endpoint=self.endpoint)
            if self.insecure is not None:
                platform = dataclasses.replace(platform, insecure=self.insecure)
            self._config = cfg.with_params(platform=platform)
        return self._config


pass_cli_context = click.make_pass_decorator(CLIContext, ensure=True)
