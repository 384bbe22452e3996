"""Flyte 2: durable workflows in pure Python.

This module is the umbrella of a namespace shared by several distributions (``flyte-models``
owns ``flyte.models`` and ``flyte.errors``, ``flyte-types`` owns ``flyte.types`` and
``flyte.io``, ...). It must stay free of side effects and cheap to import: every public name is
resolved on first access (PEP 562), so ``import flyte.models`` never loads the rest of the SDK.
"""

from pkgutil import extend_path

__path__ = extend_path(__path__, __name__)

from importlib import import_module
from typing import TYPE_CHECKING, Any

from flyte._version import __version__

if TYPE_CHECKING:
    from flyte import config as config
    from flyte import errors as errors
    from flyte import io as io
    from flyte import models as models
    from flyte import remote as remote
    from flyte import report as report
    from flyte import runtime as runtime
    from flyte import storage as storage
    from flyte import syncify as syncify
    from flyte import types as types
    from flyte.imagebuild import Image as Image
    from flyte.imagebuild import build as build
    from flyte.imagebuild import build_images as build_images
    from flyte.models import (
        AMD_GPU as AMD_GPU,
    )
    from flyte.models import (
        APPLE_SILICON as APPLE_SILICON,
    )
    from flyte.models import (
        GPU as GPU,
    )
    from flyte.models import (
        HABANA_GAUDI as HABANA_GAUDI,
    )
    from flyte.models import (
        TPU as TPU,
    )
    from flyte.models import (
        Backoff as Backoff,
    )
    from flyte.models import (
        Cache as Cache,
    )
    from flyte.models import (
        CachePolicy as CachePolicy,
    )
    from flyte.models import (
        CacheRequest as CacheRequest,
    )
    from flyte.models import (
        Cron as Cron,
    )
    from flyte.models import (
        Device as Device,
    )
    from flyte.models import (
        DeviceClass as DeviceClass,
    )
    from flyte.models import (
        Documentation as Documentation,
    )
    from flyte.models import (
        FixedRate as FixedRate,
    )
    from flyte.models import (
        Link as Link,
    )
    from flyte.models import (
        Neuron as Neuron,
    )
    from flyte.models import (
        PodTemplate as PodTemplate,
    )
    from flyte.models import (
        Resources as Resources,
    )
    from flyte.models import (
        RetryStrategy as RetryStrategy,
    )
    from flyte.models import (
        ReusePolicy as ReusePolicy,
    )
    from flyte.models import (
        Secret as Secret,
    )
    from flyte.models import (
        SecretRequest as SecretRequest,
    )
    from flyte.models import (
        Timeout as Timeout,
    )
    from flyte.models import (
        TimeoutType as TimeoutType,
    )
    from flyte.models import (
        Trigger as Trigger,
    )
    from flyte.models import (
        TriggerTime as TriggerTime,
    )
    from flyte.runtime import (
        ActionOutputs as ActionOutputs,
    )
    from flyte.runtime import (
        AsyncFunctionTaskTemplate as AsyncFunctionTaskTemplate,
    )
    from flyte.runtime import (
        Deployment as Deployment,
    )
    from flyte.runtime import (
        Run as Run,
    )
    from flyte.runtime import (
        TaskContext as TaskContext,
    )
    from flyte.runtime import (
        TaskEnvironment as TaskEnvironment,
    )
    from flyte.runtime import (
        TaskTemplate as TaskTemplate,
    )
    from flyte.runtime import (
        ctx as ctx,
    )
    from flyte.runtime import (
        current_domain as current_domain,
    )
    from flyte.runtime import (
        current_project as current_project,
    )
    from flyte.runtime import (
        custom_context as custom_context,
    )
    from flyte.runtime import deploy as deploy
    from flyte.runtime import (
        get_custom_context as get_custom_context,
    )
    from flyte.runtime import (
        group as group,
    )
    from flyte.runtime import (
        init as init,
    )
    from flyte.runtime import (
        init_from_config as init_from_config,
    )
    from flyte.runtime import (
        init_in_cluster as init_in_cluster,
    )
    from flyte.runtime import (
        map as map,
    )
    from flyte.runtime import (
        run as run,
    )
    from flyte.runtime import (
        trace as trace,
    )
    from flyte.runtime import (
        with_runcontext as with_runcontext,
    )
    from flyte.runtime._log import logger as logger

# Subpackages reachable as attributes after a bare `import flyte` (`flyte.errors.OOMError`).
_SUBMODULES = frozenset(
    {"config", "errors", "io", "models", "remote", "report", "runtime", "storage", "syncify", "types"}
)

# Public name -> "module:attribute" for names re-exported from the sibling distributions.
_EXPORTS: dict[str, str] = {
    "AMD_GPU": "flyte.models:AMD_GPU",
    "APPLE_SILICON": "flyte.models:APPLE_SILICON",
    "Backoff": "flyte.models:Backoff",
    "Cache": "flyte.models:Cache",
    "CachePolicy": "flyte.models:CachePolicy",
    "CacheRequest": "flyte.models:CacheRequest",
    "Cron": "flyte.models:Cron",
    "Device": "flyte.models:Device",
    "DeviceClass": "flyte.models:DeviceClass",
    "Documentation": "flyte.models:Documentation",
    "FixedRate": "flyte.models:FixedRate",
    "GPU": "flyte.models:GPU",
    "HABANA_GAUDI": "flyte.models:HABANA_GAUDI",
    "Link": "flyte.models:Link",
    "Neuron": "flyte.models:Neuron",
    "PodTemplate": "flyte.models:PodTemplate",
    "Resources": "flyte.models:Resources",
    "RetryStrategy": "flyte.models:RetryStrategy",
    "ReusePolicy": "flyte.models:ReusePolicy",
    "Secret": "flyte.models:Secret",
    "SecretRequest": "flyte.models:SecretRequest",
    "TPU": "flyte.models:TPU",
    "Timeout": "flyte.models:Timeout",
    "TimeoutType": "flyte.models:TimeoutType",
    "Trigger": "flyte.models:Trigger",
    "TriggerTime": "flyte.models:TriggerTime",
    "ActionOutputs": "flyte.runtime:ActionOutputs",
    "Deployment": "flyte.runtime:Deployment",
    "deploy": "flyte.runtime:deploy",
    "AsyncFunctionTaskTemplate": "flyte.runtime:AsyncFunctionTaskTemplate",
    "Run": "flyte.runtime:Run",
    "TaskContext": "flyte.runtime:TaskContext",
    "TaskEnvironment": "flyte.runtime:TaskEnvironment",
    "TaskTemplate": "flyte.runtime:TaskTemplate",
    "ctx": "flyte.runtime:ctx",
    "current_domain": "flyte.runtime:current_domain",
    "current_project": "flyte.runtime:current_project",
    "custom_context": "flyte.runtime:custom_context",
    "get_custom_context": "flyte.runtime:get_custom_context",
    "group": "flyte.runtime:group",
    "init": "flyte.runtime:init",
    "init_from_config": "flyte.runtime:init_from_config",
    "init_in_cluster": "flyte.runtime:init_in_cluster",
    "map": "flyte.runtime:map",
    "run": "flyte.runtime:run",
    "trace": "flyte.runtime:trace",
    "with_runcontext": "flyte.runtime:with_runcontext",
    "logger": "flyte.runtime._log:logger",
    "Image": "flyte.imagebuild:Image",
    "build": "flyte.imagebuild:build",
    "build_images": "flyte.imagebuild:build_images",
}

__all__ = ["__version__", "version", *sorted(_SUBMODULES), *sorted(_EXPORTS)]


def version() -> str:
    """The version of the installed ``flyte`` distribution."""
    return __version__


def __getattr__(name: str) -> Any:
    if name in _SUBMODULES:
        return import_module(f"{__name__}.{name}")
    target = _EXPORTS.get(name)
    if target is None:
        raise AttributeError(f"module 'flyte' has no attribute {name!r}")
    module_name, _, attr = target.partition(":")
    value = getattr(import_module(module_name), attr)
    globals()[name] = value  # later lookups skip __getattr__
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
