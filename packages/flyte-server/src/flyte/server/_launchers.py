"""Which ``Launcher`` starts the server's attempts, by the ``executor`` setting.

``process`` (the default) starts a fresh ``a0`` process per attempt. Other launchers live in
modules of their own and are imported only when chosen.
"""

from __future__ import annotations

from flyte.server._config import ServerConfig
from flyte.server._process import Launcher, ProcessLauncher

EXECUTORS = ("process",)


def make_launcher(config: ServerConfig) -> Launcher:
    if config.executor == "process":
        return ProcessLauncher()
    raise ValueError(f"unknown executor {config.executor!r}; expected one of {', '.join(EXECUTORS)}")
