"""Client objects for a Flyte 2 backend: runs, actions, tasks, projects and secrets.

``import flyte.remote`` is cheap: grpc and the generated service stubs load only when a
:class:`ClientSet` is created and used.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from flyte.remote._version import __version__

if TYPE_CHECKING:
    from flyte.models import ActionOutputs
    from flyte.remote._client import ClientSet, Endpoint
    from flyte.remote._data import upload_file
    from flyte.remote._run import Run
    from flyte.remote._session import Session, configure, current_session

_LAZY = {
    "ClientSet": "flyte.remote._client",
    "Endpoint": "flyte.remote._client",
    "Run": "flyte.remote._run",
    "ActionOutputs": "flyte.models",
    "Session": "flyte.remote._session",
    "configure": "flyte.remote._session",
    "current_session": "flyte.remote._session",
    "upload_file": "flyte.remote._data",
}

__all__ = [
    "ActionOutputs",
    "ClientSet",
    "Endpoint",
    "Run",
    "Session",
    "__version__",
    "configure",
    "current_session",
    "upload_file",
]


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'flyte.remote' has no attribute {name!r}")
    from importlib import import_module

    value = getattr(import_module(module), name)
    globals()[name] = value
    return value
