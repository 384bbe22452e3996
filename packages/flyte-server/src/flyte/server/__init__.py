"""The embedded Flyte 2 backend started by `flyte start server`."""

from flyte.server._version import __version__

__all__ = ["__version__"]
