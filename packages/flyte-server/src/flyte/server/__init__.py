"""The embedded Flyte 2 backend started by ``flyte start server`` (or ``python -m flyte.server``).

One process answers the flyteidl2 services over Connect (HTTP/1.1) and gRPC (h2c) on one port,
keeps metadata in SQLite and blobs in a local folder, and runs each action as an ``a0`` process.

``import flyte.server`` is cheap: the server's modules load on first use.

Example:
    >>> import flyte.server
    >>> flyte.server.serve(port=0, data_dir="/tmp/flyte-server")  # doctest: +SKIP
    flyte-server listening on http://127.0.0.1:40123 (data dir /tmp/flyte-server)
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from flyte.server._version import __version__

if TYPE_CHECKING:
    from flyte.server._config import ServerConfig
    from flyte.server._server import ServerStartError, serve, serve_async

_LAZY = {
    "ServerConfig": "flyte.server._config",
    "ServerStartError": "flyte.server._server",
    "serve": "flyte.server._server",
    "serve_async": "flyte.server._server",
}

__all__ = ["ServerConfig", "ServerStartError", "__version__", "serve", "serve_async"]


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'flyte.server' has no attribute {name!r}")
    from importlib import import_module

    value = getattr(import_module(module), name)
    globals()[name] = value
    return value
