"""``flyte start server`` / ``flyte stop server`` / ``flyte get server``: the embedded backend.

The CLI never imports flyte-server: it starts ``python -m flyte.server`` as a process of its own
and finds it again through ``<data-dir>/server.json`` (url, pid), which the server writes once it
listens and removes when it stops.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import click

from flyte.cli._context import CLIContext, pass_cli_context
from flyte.cli._output import emit

_START_TIMEOUT_S = 30.0
_STOP_TIMEOUT_S = 20.0


def default_data_dir() -> Path:
    """Where the server keeps its data: ``$FLYTE_SERVER_DATA_DIR`` or ``~/.flyte/server``.

    The same rule as ``flyte.server``'s own default, restated because the CLI never imports the
    server; the CLI always passes ``--data-dir`` explicitly, so the two cannot disagree in use.
    """
    configured = os.environ.get("FLYTE_SERVER_DATA_DIR")
    return Path(configured) if configured else Path.home() / ".flyte" / "server"


@dataclass(frozen=True)
class ServerInfo:
    url: str
    pid: int
    data_dir: Path

    @property
    def alive(self) -> bool:
        try:
            os.kill(self.pid, 0)
        except ProcessLookupError:
            return False
        except PermissionError:  # exists, owned by someone else
            return True
        return True


def read_info(data_dir: Path) -> ServerInfo | None:
    """The running server of ``data_dir``, or None (a stale file of a dead server counts as none)."""
    try:
        raw = json.loads((data_dir / "server.json").read_text())
        info = ServerInfo(str(raw["url"]), int(raw["pid"]), Path(raw.get("data_dir", data_dir)))
    except (FileNotFoundError, ValueError, KeyError, TypeError):
        return None
    return info if info.alive else None


data_dir_option = click.option(
    "--data-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="The server's data folder (default: $FLYTE_SERVER_DATA_DIR or ~/.flyte/server).",
)


@click.command("server")
@click.option("--port", type=click.IntRange(0, 65535), default=8090, show_default=True, help="TCP port (0: any).")
@data_dir_option
@click.option("--max-concurrency", type=click.IntRange(min=1), default=None, help="Actions run at once.")
@click.option("--foreground", is_flag=True, help="Run in this terminal until Ctrl-C instead of in the background.")
def start_server(port: int, data_dir: Path | None, max_concurrency: int | None, foreground: bool) -> None:
    """Start the embedded Flyte backend on 127.0.0.1."""
    data_dir = (data_dir or default_data_dir()).expanduser().resolve()
    if foreground:
        running = read_info(data_dir)
        if running is None:
            _require_server_package()
            command = _server_command(port, data_dir, max_concurrency)
            os.execv(sys.executable, command)
    info, started = ensure_server(data_dir, port, max_concurrency)
    if not started:
        click.echo(f"Flyte server already running at {info.url} (pid {info.pid}, data in {data_dir})")
        return
    click.echo(f"Flyte server running at {info.url} (pid {info.pid}, data in {data_dir})")
    click.echo("Stop it with `flyte stop server`; its log is " + str(data_dir / "server.log"))


def _server_command(port: int, data_dir: Path, max_concurrency: int | None) -> list[str]:
    command = [sys.executable, "-m", "flyte.server", "--port", str(port), "--data-dir", str(data_dir)]
    if max_concurrency is not None:
        command += ["--max-concurrency", str(max_concurrency)]
    return command


def ensure_server(data_dir: Path, port: int, max_concurrency: int | None = None) -> tuple[ServerInfo, bool]:
    """The server of ``data_dir``, started in the background if it is not running.

    Returns it and whether this call started it. The process outlives the CLI (its own session)
    and logs to ``<data_dir>/server.log``.
    """
    running = read_info(data_dir)
    if running is not None:
        return running, False
    _require_server_package()
    data_dir.mkdir(parents=True, exist_ok=True)
    log = data_dir / "server.log"
    with log.open("ab") as out:
        process = subprocess.Popen(
            _server_command(port, data_dir, max_concurrency),
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    return _wait_until_listening(process, data_dir, log), True


def _require_server_package() -> None:
    import importlib.util

    if importlib.util.find_spec("flyte.server") is None:
        raise click.ClickException("the embedded server is not installed here: pip install flyte-server")


def _wait_until_listening(process: subprocess.Popen[bytes], data_dir: Path, log: Path) -> ServerInfo:
    deadline = time.monotonic() + _START_TIMEOUT_S
    while time.monotonic() < deadline:
        info = read_info(data_dir)
        if info is not None and info.pid == process.pid:
            return info
        if process.poll() is not None:
            tail = log.read_text(errors="replace").strip().splitlines()[-5:]
            raise click.ClickException(
                f"the server exited with status {process.returncode} before listening:\n  " + "\n  ".join(tail)
            )
        time.sleep(0.05)
    process.terminate()
    raise click.ClickException(f"the server did not start listening within {_START_TIMEOUT_S:.0f}s; see {log}")


@click.command("server")
@data_dir_option
def stop_server(data_dir: Path | None) -> None:
    """Stop the embedded Flyte backend (its runs resume when it starts again)."""
    data_dir = (data_dir or default_data_dir()).expanduser().resolve()
    info = read_info(data_dir)
    if info is None:
        click.echo(f"No Flyte server is running for {data_dir}")
        return
    os.kill(info.pid, signal.SIGTERM)
    deadline = time.monotonic() + _STOP_TIMEOUT_S
    while time.monotonic() < deadline:
        if not info.alive:
            click.echo(f"Stopped the Flyte server at {info.url} (pid {info.pid})")
            return
        time.sleep(0.05)
    raise click.ClickException(f"the server (pid {info.pid}) did not stop within {_STOP_TIMEOUT_S:.0f}s")


@click.command("server")
@data_dir_option
@pass_cli_context
def get_server(obj: CLIContext, data_dir: Path | None) -> None:
    """Show whether the embedded backend is running, where, and its data folder."""
    data_dir = (data_dir or default_data_dir()).expanduser().resolve()
    info = read_info(data_dir)
    row: dict[str, Any] = {
        "status": "running" if info else "stopped",
        "url": info.url if info else None,
        "pid": info.pid if info else None,
        "data_dir": str(data_dir),
    }
    emit([row], obj.output_format)


@click.group()
def start() -> None:
    """Start a local service."""


@click.group()
def stop() -> None:
    """Stop a local service."""


start.add_command(start_server)
stop.add_command(stop_server)
