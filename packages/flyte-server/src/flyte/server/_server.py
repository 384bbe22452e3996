"""``serve``: open the data dir, bind the port, run the executor and hypercorn until told to stop."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import signal
import socket
import sqlite3
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from flyte.server._app import build_app
from flyte.server._config import ServerConfig
from flyte.server._db import Database, SchemaTooNewError
from flyte.server._events import ActionEvents
from flyte.server._executor import Executor
from flyte.server._layout import DataLayout
from flyte.server._signing import UrlSigner, load_or_create_key
from flyte.server._state import ServerState
from flyte.server._store import MetadataStore

if TYPE_CHECKING:
    from hypercorn.typing import ASGIFramework

logger = logging.getLogger("flyte.server")

# How long open streams (watches) get to finish when the server stops.
GRACEFUL_SHUTDOWN_SECONDS = 2.0


class ServerStartError(RuntimeError):
    """The server cannot start: its port cannot be bound or its data dir cannot be used."""


def bind(host: str, port: int) -> socket.socket:
    """A listening TCP socket; port 0 picks a free one (read it back with ``getsockname``).

    Raises:
        ServerStartError: the address does not resolve or cannot be bound (taken, not ours, ...).
    """
    try:
        family, kind, proto, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0]
    except OSError as e:
        raise ServerStartError(f"cannot listen on {host}:{port}: the host does not resolve ({e})") from e
    sock = socket.socket(family, kind, proto)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(address)
        sock.listen(128)
    except OSError as e:
        sock.close()
        raise ServerStartError(f"cannot listen on {host}:{port}: {e.strerror or e}") from e
    return sock


def _open_data_dir(layout: DataLayout) -> Database:
    try:
        layout.create()
        return Database.open(layout.database)
    except (OSError, sqlite3.Error, SchemaTooNewError) as e:
        raise ServerStartError(f"the data dir {layout.root} cannot be used: {e}") from e


def _url_host(sock: socket.socket) -> str:
    host = str(sock.getsockname()[0])
    if host in ("0.0.0.0", "::"):
        # Bound to every address: signed URLs and tasks use loopback, which always reaches it.
        host = "127.0.0.1" if sock.family == socket.AF_INET else "::1"
    return f"[{host}]" if ":" in host else host


async def serve_async(
    config: ServerConfig,
    *,
    shutdown: asyncio.Event | None = None,
    on_ready: Callable[[str], None] | None = None,
) -> None:
    """Run a server until ``shutdown`` is set.

    Args:
        config: where to listen and keep data.
        shutdown: set it to stop the server; default: never (cancel the task instead).
        on_ready: called with the server's URL once it accepts connections.
    """
    from hypercorn.asyncio import serve as hypercorn_serve
    from hypercorn.config import Config

    sock = bind(config.host, config.port)  # first: a taken port leaves no data dir behind
    layout = DataLayout(config.data_dir)
    try:
        db = _open_data_dir(layout)
    except ServerStartError:
        sock.close()
        raise
    try:
        address = f"{_url_host(sock)}:{sock.getsockname()[1]}"
        url = f"http://{address}"
        store = MetadataStore(db)
        events = ActionEvents()
        executor = Executor(store, events, layout, config, endpoint=address)
        state = ServerState(
            config=config,
            layout=layout,
            store=store,
            events=events,
            executor=executor,
            signer=UrlSigner(load_or_create_key(layout.signing_key)),
            base_url=url,
        )
        hyper = Config()
        hyper.graceful_timeout = GRACEFUL_SHUTDOWN_SECONDS
        hyper.accesslog = None
        # Hypercorn sends GOAWAY after this many requests on one HTTP/2 connection (default 1000),
        # after which its h2 state refuses every frame, also on streams still open: a parent's
        # StateService.Watch (one connection carrying its EnqueueActions too) would go silent.
        hyper.keep_alive_max_requests = sys.maxsize
        hyper.errorlog = logging.getLogger("hypercorn.error")  # one handler: the root logger's
        await executor.start()
        _write_server_info(layout, url)
        if on_ready is not None:
            on_ready(url)
        stop = shutdown or asyncio.Event()
        # From here hypercorn owns the listening socket (and closes it).
        hyper.bind = [f"fd://{sock.detach()}"]
        try:
            await hypercorn_serve(cast("ASGIFramework", build_app(state)), hyper, shutdown_trigger=stop.wait)
        finally:
            await executor.stop()
            with contextlib.suppress(FileNotFoundError):
                layout.server_info.unlink()
    finally:
        sock.close()  # a no-op once detached
        db.close()


def _write_server_info(layout: DataLayout, url: str) -> None:
    # `flyte get server` / `flyte stop server` find the running server through this file.
    info = {"url": url, "pid": os.getpid(), "data_dir": str(layout.root)}
    layout.server_info.write_text(json.dumps(info) + "\n")


def serve(
    host: str = "127.0.0.1",
    port: int = 8090,
    data_dir: str | os.PathLike[str] | None = None,
    **settings: Any,
) -> None:
    """Run the embedded Flyte 2 backend in this process until SIGINT or SIGTERM.

    It answers Connect (HTTP/1.1) and gRPC (h2c) on one port and prints
    ``flyte-server listening on http://HOST:PORT`` once it accepts connections.

    Args:
        host: the address to bind (loopback by default).
        port: the TCP port; 0 picks a free one.
        data_dir: where metadata, blobs and logs live (default ``~/.flyte/server``).
        settings: any other :class:`ServerConfig` field (``max_concurrency``, ``max_upload_bytes``, ...).

    Example:
        >>> import flyte.server
        >>> flyte.server.serve(port=8090, data_dir="/tmp/flyte-server")  # doctest: +SKIP
    """
    if data_dir is not None:
        settings["data_dir"] = Path(data_dir)
    asyncio.run(_serve_until_signalled(ServerConfig(host=host, port=port, **settings)))


async def _serve_until_signalled(config: ServerConfig) -> None:
    shutdown = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, shutdown.set)

    def ready(url: str) -> None:
        print(f"flyte-server listening on {url} (data dir {config.data_dir})", flush=True)

    await serve_async(config, shutdown=shutdown, on_ready=ready)
