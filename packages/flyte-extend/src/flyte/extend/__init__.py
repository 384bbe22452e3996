"""Everything a plugin author needs, and nothing else.

A plugin (``flyteplugins.spark``, ``flyteplugins.dask``, ...) imports from here only: the task
template bases it subclasses, the registry that makes ``TaskEnvironment(plugin_config=...)`` pick
its task class, the data its config serializes to, the errors it raises, image-builder
registration (``register_builder``, ``ImageBuilder``; builders also load from the entry point
group ``flyte.plugins.image_builders``), a base for engines that
run around a task's body (:class:`LocalEngine`, :class:`EngineTaskTemplate`), type-transformer
registration, DataFrame encoder/decoder registration (``DataFrameTransformerEngine.register``
with the helpers that move an engine's dataset folders to and from the store:
:func:`write_dataset`, :func:`local_dataset`), and a conformance kit in :mod:`flyte.extend.testing`.

Names load from the distribution that owns them on first use (PEP 562), so importing this
package costs nothing until a plugin touches a name.

Example:
    >>> from dataclasses import dataclass
    >>> from flyte.extend import AsyncFunctionTaskTemplate, TaskPluginRegistry
    >>> @dataclass
    ... class Echo:
    ...     greeting: str = "hi"
    >>> @dataclass(kw_only=True)
    ... class EchoTask(AsyncFunctionTaskTemplate):
    ...     task_type: str = "echo"
    ...     def custom_config(self, sctx):
    ...         return {"greeting": self.plugin_config.greeting}
    >>> TaskPluginRegistry.register(Echo, EchoTask)
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from flyte.extend._version import __version__

if TYPE_CHECKING:
    from flyte.errors import NonRecoverableError as NonRecoverableError
    from flyte.errors import RuntimeSystemError as RuntimeSystemError
    from flyte.errors import RuntimeUserError as RuntimeUserError
    from flyte.extend._dataframes import local_dataset as local_dataset
    from flyte.extend._dataframes import write_dataset as write_dataset
    from flyte.extend._engine import LocalEngine as LocalEngine
    from flyte.extend._engine_task import EngineTaskTemplate as EngineTaskTemplate
    from flyte.extend._resources import PRIMARY_CONTAINER_DEFAULT_NAME as PRIMARY_CONTAINER_DEFAULT_NAME
    from flyte.extend._resources import get_proto_extended_resources as get_proto_extended_resources
    from flyte.extend._resources import get_proto_resources as get_proto_resources
    from flyte.imagebuild import Image as Image
    from flyte.imagebuild import ImageBuild as ImageBuild
    from flyte.imagebuild import ImageBuilder as ImageBuilder
    from flyte.imagebuild import register_builder as register_builder
    from flyte.io import PARQUET as PARQUET
    from flyte.io import DataFrame as DataFrame
    from flyte.io import DataFrameDecoder as DataFrameDecoder
    from flyte.io import DataFrameEncoder as DataFrameEncoder
    from flyte.io import DataFrameTransformerEngine as DataFrameTransformerEngine
    from flyte.models import PodTemplate as PodTemplate
    from flyte.models import Resources as Resources
    from flyte.models import SerializationContext as SerializationContext
    from flyte.runtime import AsyncFunctionTaskTemplate as AsyncFunctionTaskTemplate
    from flyte.runtime import TaskContext as TaskContext
    from flyte.runtime import TaskPluginRegistry as TaskPluginRegistry
    from flyte.runtime import TaskTemplate as TaskTemplate
    from flyte.runtime import ctx as ctx
    from flyte.types import TypeEngine as TypeEngine
    from flyte.types import TypeTransformer as TypeTransformer

# Public name -> the module that owns it.
_EXPORTS = {
    "AsyncFunctionTaskTemplate": "flyte.runtime",
    "DataFrame": "flyte.io",
    "DataFrameDecoder": "flyte.io",
    "DataFrameEncoder": "flyte.io",
    "DataFrameTransformerEngine": "flyte.io",
    "EngineTaskTemplate": "flyte.extend._engine_task",
    "Image": "flyte.imagebuild",
    "ImageBuild": "flyte.imagebuild",
    "ImageBuilder": "flyte.imagebuild",
    "LocalEngine": "flyte.extend._engine",
    "NonRecoverableError": "flyte.errors",
    "PARQUET": "flyte.io",
    "PRIMARY_CONTAINER_DEFAULT_NAME": "flyte.extend._resources",
    "PodTemplate": "flyte.models",
    "Resources": "flyte.models",
    "RuntimeSystemError": "flyte.errors",
    "RuntimeUserError": "flyte.errors",
    "SerializationContext": "flyte.models",
    "TaskContext": "flyte.runtime",
    "TaskPluginRegistry": "flyte.runtime",
    "TaskTemplate": "flyte.runtime",
    "TypeEngine": "flyte.types",
    "TypeTransformer": "flyte.types",
    "ctx": "flyte.runtime",
    "get_proto_extended_resources": "flyte.extend._resources",
    "get_proto_resources": "flyte.extend._resources",
    "local_dataset": "flyte.extend._dataframes",
    "register_builder": "flyte.imagebuild",
    "write_dataset": "flyte.extend._dataframes",
}

__all__ = ["__version__", *sorted(_EXPORTS)]


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'flyte.extend' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
