"""Launching one attempt of an action as an ``a0`` process, in a process group of its own.

The server never imports the runtime: it renders the task's container command line (the
``{{.input}}``-style placeholders a backend fills in), swaps the leading ``a0`` for the installed
console script, and starts it with the environment a Flyte 2 task container gets. Killing the
process group takes down anything the task started too.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import signal
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

A0 = "a0"
# Set in every attempt's environment. The run's base is a local folder: writers of
# <base>/<child>/inputs.pb that use fsspec (flyte 2.12.1's controller) must create the child's
# folder first. Part of what a warm worker imports with, so its warm-up uses it too.
CONSTANT_TASK_ENV = {"FSSPEC_FILE_AUTO_MKDIR": "1"}


def find_a0(configured: str | None) -> str | None:
    """The ``a0`` program: the configured one, the one beside this interpreter, or one on PATH.

    Looked up for every attempt, so a found program is remembered while it stays where it was.
    """
    if configured:
        return configured
    if _found and os.path.exists(_found[0]):
        return _found[0]
    _found.clear()
    beside = Path(sys.executable).parent / A0
    path = str(beside) if beside.exists() else shutil.which(A0)
    if path is not None:
        _found.append(path)
    return path


_found: list[str] = []


def render(args: Sequence[str], values: Mapping[str, str]) -> list[str]:
    """Replace every ``{{.name}}`` placeholder in ``args`` whose name is in ``values``."""
    out = []
    for arg in args:
        for name, value in values.items():
            arg = arg.replace("{{." + name + "}}", value)
        out.append(arg)
    return out


@dataclass(frozen=True)
class Launch:
    """How to start one attempt: command line, environment, working folder and log files."""

    argv: list[str]
    env: dict[str, str]
    cwd: Path
    stdout: Path
    stderr: Path
    image: str | None = None  # the task's container image, for launchers that run one


class RunningAttempt(Protocol):
    """What the executor needs of a started attempt, however it was launched."""

    async def wait(self) -> int: ...

    async def kill(self, grace_seconds: float) -> int: ...


class Launcher(Protocol):
    """Starts attempts: a fresh process (the default), or another way chosen by the server's settings."""

    async def start(self, launch: Launch) -> RunningAttempt:
        """Start ``launch``; raises OSError (cannot execute) or ValueError (cannot be launched this way)."""
        ...

    async def close(self) -> None:
        """Release what the launcher holds (worker processes, engine connections)."""
        ...


class ActionProcess:
    """A running attempt: wait for it, or kill its whole process group."""

    def __init__(self, process: asyncio.subprocess.Process):
        self._process = process

    @property
    def pid(self) -> int:
        return self._process.pid

    @classmethod
    async def start(cls, launch: Launch) -> ActionProcess:
        """Start ``launch``; raises OSError when the program cannot be executed."""
        launch.cwd.mkdir(parents=True, exist_ok=True)
        launch.stdout.parent.mkdir(parents=True, exist_ok=True)
        out = await asyncio.to_thread(open, launch.stdout, "wb")
        err = await asyncio.to_thread(open, launch.stderr, "wb")
        try:
            process = await asyncio.create_subprocess_exec(
                *launch.argv,
                cwd=launch.cwd,
                env=launch.env,
                stdin=asyncio.subprocess.DEVNULL,
                stdout=out,
                stderr=err,
                # A new session makes the child the leader of its own process group: one killpg
                # reaches everything it starts, and a Ctrl-C at the server's terminal does not.
                start_new_session=True,
            )
        finally:
            # The child holds its own descriptors now.
            out.close()
            err.close()
        return cls(process)

    async def wait(self) -> int:
        return await self._process.wait()

    def signal_group(self, sig: signal.Signals) -> None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self._process.pid, sig)

    async def kill(self, grace_seconds: float) -> int:
        """SIGTERM the group, SIGKILL it after ``grace_seconds``; returns the exit status."""
        if self._process.returncode is None:
            self.signal_group(signal.SIGTERM)
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(asyncio.shield(self._process.wait()), grace_seconds)
        # Also after a clean exit: grandchildren the task left behind must not outlive it.
        self.signal_group(signal.SIGKILL)
        return await self._process.wait()


class ProcessLauncher:
    """Each attempt is a fresh ``a0`` process in its own session."""

    async def start(self, launch: Launch) -> RunningAttempt:
        return await ActionProcess.start(launch)

    async def close(self) -> None:
        return None
