"""Client objects for a Flyte 2 backend: runs, actions, tasks, projects and secrets.

``import flyte.remote`` is cheap: grpc and the generated service stubs load only when a
:class:`ClientSet` is created and used.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from flyte.remote._version import __version__

if TYPE_CHECKING:
    from flyte.remote._client import ClientSet, Endpoint

_LAZY = {"ClientSet": "flyte.remote._client", "Endpoint": "flyte.remote._client"}

__all__ = ["ClientSet", "Endpoint", "__version__"]


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'flyte.remote' has no attribute {name!r}")
    from importlib import import_module

    value = getattr(import_module(module), name)
    globals()[name] = value
    return value
