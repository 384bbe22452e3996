"""The surface for plugin authors: task template bases, registries and a conformance kit."""

from flyte.extend._version import __version__

__all__ = ["__version__"]
