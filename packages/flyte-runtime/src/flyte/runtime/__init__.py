"""The execution engine: task templates, controllers and the `a0` task entrypoint."""

from flyte.runtime._version import __version__

__all__ = ["__version__"]
