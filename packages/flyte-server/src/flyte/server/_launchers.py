"""Which ``Launcher`` starts the server's attempts, by the ``executor`` setting.

``warm`` (the default) forks attempts from a worker that has already imported the runtime
(``flyte.server._warm_launcher``); ``process`` starts a fresh ``a0`` process per attempt. Other launchers
live in modules of their own and are imported only when chosen.
"""

from __future__ import annotations

import os

from flyte.server._config import ServerConfig
from flyte.server._process import CONSTANT_TASK_ENV, Launcher, ProcessLauncher, find_a0

EXECUTORS = ("process", "warm", "docker")


def make_launcher(config: ServerConfig) -> Launcher:
    if config.executor == "process":
        return ProcessLauncher()
    if config.executor == "warm":
        from flyte.server._warm_launcher import WarmLauncher

        launcher = WarmLauncher()
        # The worker most attempts use (no task or run environment of their own), started now:
        # the environment such an attempt gets, less what changes per attempt (the worker's key).
        launcher.warm_up(find_a0(config.a0_command), {**os.environ, **CONSTANT_TASK_ENV})
        return launcher
    if config.executor == "docker":  # each attempt in a container of its task's image
        from flyte.server._docker_launcher import DockerLauncher

        return DockerLauncher(config.data_dir, host_a0=find_a0(config.a0_command))
    raise ValueError(f"unknown executor {config.executor!r}; expected one of {', '.join(EXECUTORS)}")
