"""What a server instance is told: where it listens, where it keeps its data, how much it runs at once."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8090
DEFAULT_MAX_UPLOAD_BYTES = 1024**3
DEFAULT_MAX_MESSAGE_BYTES = 64 * 1024 * 1024


def default_data_dir() -> Path:
    """``$FLYTE_SERVER_DATA_DIR``, else ``~/.flyte/server``."""
    configured = os.environ.get("FLYTE_SERVER_DATA_DIR")
    return Path(configured) if configured else Path.home() / ".flyte" / "server"


def default_concurrency(executor: str) -> int:
    """How many actions run at once when not told: a fresh process per action is CPU-bound at
    start-up, so one per core; a forked warm worker spends most of an action waiting (RPCs,
    storage, SQLite), so four per core keep the cores busy."""
    cores = max(os.cpu_count() or 1, 1)
    return cores * 4 if executor == "warm" else cores


@dataclass(frozen=True)
class ServerConfig:
    """Settings of one embedded server.

    Args:
        host: the address to bind; loopback by default, so nothing outside this machine reaches it.
        port: the TCP port; 0 picks a free one (the chosen port is printed and written to
            ``<data_dir>/server.json``).
        data_dir: the SQLite database, the signing key, uploaded blobs, run data and logs.
        max_concurrency: how many actions run at the same time; default: see
            :func:`default_concurrency`. A parent waiting for its children lends them its slot.
        a0_command: the program that runs an action; default: the ``a0`` script next to this
            Python interpreter, else the one on ``PATH``.
        max_upload_bytes: the largest body a signed upload URL accepts.
        max_message_bytes: the largest RPC request message.
        kill_grace_seconds: how long a timed-out or aborted action gets after SIGTERM before SIGKILL.
        executor: how attempts are started (see ``flyte.server._launchers``): ``warm`` (the
            default) forks each attempt from a worker that has already imported the runtime;
            ``process`` runs a fresh ``a0`` process per attempt; ``docker`` runs it in a
            container of the task's image.
    """

    host: str = DEFAULT_HOST
    port: int = DEFAULT_PORT
    data_dir: Path = field(default_factory=default_data_dir)
    max_concurrency: int | None = None
    a0_command: str | None = None
    max_upload_bytes: int = DEFAULT_MAX_UPLOAD_BYTES
    max_message_bytes: int = DEFAULT_MAX_MESSAGE_BYTES
    kill_grace_seconds: float = 2.0
    executor: str = "warm"

    def __post_init__(self) -> None:
        if not 0 <= self.port <= 65535:
            raise ValueError(f"port must be between 0 and 65535, got {self.port}")
        if self.max_concurrency is None:
            object.__setattr__(self, "max_concurrency", default_concurrency(self.executor))
        elif self.max_concurrency < 1:
            raise ValueError(f"max_concurrency must be at least 1, got {self.max_concurrency}")
        object.__setattr__(self, "data_dir", Path(self.data_dir).expanduser().resolve())

    @property
    def concurrency(self) -> int:
        """``max_concurrency`` as resolved at construction (never None)."""
        assert self.max_concurrency is not None
        return self.max_concurrency
