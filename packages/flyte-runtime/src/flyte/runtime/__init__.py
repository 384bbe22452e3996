"""The execution engine: task templates, controllers, and the API the ``flyte`` umbrella re-exports.

Public names load on first use (PEP 562) so that ``import flyte.runtime`` stays cheap.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from flyte.runtime._version import __version__

if TYPE_CHECKING:
    from flyte.runtime._context import TaskContext as TaskContext
    from flyte.runtime._context import ctx as ctx
    from flyte.runtime._context import custom_context as custom_context
    from flyte.runtime._context import get_custom_context as get_custom_context
    from flyte.runtime._context import group as group
    from flyte.runtime._controller import LocalController as LocalController
    from flyte.runtime._deploy import Deployment as Deployment
    from flyte.runtime._deploy import deploy as deploy
    from flyte.runtime._environment import TaskEnvironment as TaskEnvironment
    from flyte.runtime._init import current_domain as current_domain
    from flyte.runtime._init import current_project as current_project
    from flyte.runtime._init import init as init
    from flyte.runtime._init import init_from_config as init_from_config
    from flyte.runtime._init import init_in_cluster as init_in_cluster
    from flyte.runtime._map import map as map
    from flyte.runtime._outputs import ActionOutputs as ActionOutputs
    from flyte.runtime._plugins import TaskPluginRegistry as TaskPluginRegistry
    from flyte.runtime._run import Run as Run
    from flyte.runtime._run import run as run
    from flyte.runtime._run import with_runcontext as with_runcontext
    from flyte.runtime._task import AsyncFunctionTaskTemplate as AsyncFunctionTaskTemplate
    from flyte.runtime._task import TaskTemplate as TaskTemplate
    from flyte.runtime._trace import trace as trace

_EXPORTS = {
    "ActionOutputs": "flyte.runtime._outputs",
    "AsyncFunctionTaskTemplate": "flyte.runtime._task",
    "Deployment": "flyte.runtime._deploy",
    "LocalController": "flyte.runtime._controller",
    "Run": "flyte.runtime._run",
    "TaskContext": "flyte.runtime._context",
    "TaskEnvironment": "flyte.runtime._environment",
    "TaskPluginRegistry": "flyte.runtime._plugins",
    "TaskTemplate": "flyte.runtime._task",
    "ctx": "flyte.runtime._context",
    "current_domain": "flyte.runtime._init",
    "current_project": "flyte.runtime._init",
    "custom_context": "flyte.runtime._context",
    "deploy": "flyte.runtime._deploy",
    "get_custom_context": "flyte.runtime._context",
    "group": "flyte.runtime._context",
    "init": "flyte.runtime._init",
    "init_from_config": "flyte.runtime._init",
    "init_in_cluster": "flyte.runtime._init",
    "map": "flyte.runtime._map",
    "run": "flyte.runtime._run",
    "trace": "flyte.runtime._trace",
    "with_runcontext": "flyte.runtime._run",
}

__all__ = ["__version__", *sorted(_EXPORTS)]


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'flyte.runtime' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value
