"""Which task class a ``plugin_config`` selects: the registry plugins add themselves to."""

from __future__ import annotations

from typing import Any, ClassVar


class TaskPluginRegistry:
    """Maps a plugin's config type (``flyteplugins.spark.Spark``) to its task class.

    Example:
        >>> TaskPluginRegistry.register(Spark, PysparkFunctionTask)  # doctest: +SKIP
        >>> env = flyte.TaskEnvironment("etl", plugin_config=Spark(...))  # tasks are Pyspark tasks
    """

    _registry: ClassVar[dict[type, type]] = {}

    @classmethod
    def register(cls, config_type: type, plugin: type) -> None:
        cls._registry[config_type] = plugin

    @classmethod
    def find(cls, config: Any) -> type | None:
        """The task class registered for ``config``'s type (or one of its bases), if any."""
        for klass in type(config).__mro__:
            if klass in cls._registry:
                return cls._registry[klass]
        return None
