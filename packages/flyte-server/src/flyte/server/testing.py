"""A real embedded server in a child process, for tests and benchmarks.

The server runs as users run it (``python -m flyte.server`` on a free loopback port with its own
data dir); this module starts it, waits until it accepts connections, and stops it again. Its
stderr (the server's log) goes to ``<data_dir>.log`` beside the data dir, so a failed start or a
failed test can show what the server said.

Example:
    >>> from flyte.server.testing import running_server
    >>> with running_server(tmp_path / "data", max_concurrency=2) as server:  # doctest: +SKIP
    ...     flyte.init(endpoint=server.url, insecure=True)
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

__all__ = ["READY_SECONDS", "ServerProcess", "running_server", "start_server", "stop_server"]

READY_SECONDS = 60.0
"""How long a server may take to accept connections (a loaded CI machine needs a few seconds)."""

_READY = "listening on "


@dataclass(frozen=True)
class ServerProcess:
    """A started server: where it listens, its data dir, its process and its log file."""

    url: str
    data_dir: Path
    process: subprocess.Popen[str]
    log: Path

    @property
    def address(self) -> str:
        """``host:port``, as a gRPC client (``ClientSet``) wants it."""
        return self.url.removeprefix("http://")

    def stop(self, timeout: float = 15.0) -> int:
        """SIGTERM, then SIGKILL after ``timeout`` seconds; returns the exit code."""
        return stop_server(self, timeout)


def _flags(settings: Mapping[str, object]) -> list[str]:
    flags: list[str] = []
    for name, value in settings.items():
        if value is not None:
            flags += [f"--{name.replace('_', '-')}", str(value)]
    return flags


def start_server(
    data_dir: str | os.PathLike[str],
    *,
    python: str | os.PathLike[str] | None = None,
    env: Mapping[str, str] | None = None,
    ready_seconds: float = READY_SECONDS,
    **settings: object,
) -> ServerProcess:
    """Start ``python -m flyte.server`` on a free loopback port and wait until it listens.

    Args:
        data_dir: the server's data dir; it may hold a previous server's data (a restart).
        python: the interpreter to run it with (default: this one).
        env: variables set for the server on top of this process's environment.
        ready_seconds: how long to wait for it to listen before killing it.
        settings: ``python -m flyte.server`` options by name, e.g. ``executor="warm"``,
            ``max_concurrency=2``, ``a0_command=...``; ``None`` leaves one at its default.

    Raises:
        RuntimeError: the server exited or did not listen in time; the message holds its log.
    """
    data = Path(data_dir)
    log = data.parent / f"{data.name}.log"
    data.parent.mkdir(parents=True, exist_ok=True)
    settings.setdefault("port", 0)
    command = [str(python or sys.executable), "-m", "flyte.server", "--data-dir", str(data), *_flags(settings)]
    with open(log, "a") as err:
        process = subprocess.Popen(
            command,
            stdout=subprocess.PIPE,
            stderr=err,
            text=True,
            env={**os.environ, **env} if env else None,
        )
    url = _wait_until_listening(process, log, ready_seconds)
    return ServerProcess(url=url, data_dir=data, process=process, log=log)


def _wait_until_listening(process: subprocess.Popen[str], log: Path, ready_seconds: float) -> str:
    # The ready line, read on a thread so a server that hangs before printing it cannot hang us.
    # A stale ``server.json`` from a killed server in the same data dir would be no proof.
    found: list[str] = []
    ready = threading.Event()

    def read() -> None:
        assert process.stdout is not None
        for line in process.stdout:
            if not found and _READY in line:
                found.append(line.split(_READY, 1)[1].split()[0])
                ready.set()
            # Whatever else it prints goes on being read, so a full pipe never blocks the server.
        ready.set()

    threading.Thread(target=read, name="flyte-server-stdout", daemon=True).start()
    ready.wait(ready_seconds)
    if found:
        return found[0]
    if process.poll() is None:
        process.kill()
        process.wait()
        what = f"did not listen within {ready_seconds:g}s (killed)"
    else:
        what = f"exited with code {process.returncode} before listening"
    said = log.read_text(errors="replace")[-4000:] if log.exists() else ""
    raise RuntimeError(f"the server {what}; its log {log}:\n{said}")


def stop_server(server: ServerProcess, timeout: float = 15.0) -> int:
    """SIGTERM the server, SIGKILL it if it has not exited after ``timeout`` seconds; the exit code."""
    if server.process.poll() is None:
        server.process.send_signal(signal.SIGTERM)
    try:
        return server.process.wait(timeout)
    except subprocess.TimeoutExpired:
        server.process.kill()
        return server.process.wait()


@contextmanager
def running_server(
    data_dir: str | os.PathLike[str],
    *,
    python: str | os.PathLike[str] | None = None,
    env: Mapping[str, str] | None = None,
    ready_seconds: float = READY_SECONDS,
    **settings: object,
) -> Iterator[ServerProcess]:
    """:func:`start_server` for the ``with`` block, always stopped at its end (same arguments)."""
    server = start_server(data_dir, python=python, env=env, ready_seconds=ready_seconds, **settings)
    try:
        yield server
    finally:
        stop_server(server)
