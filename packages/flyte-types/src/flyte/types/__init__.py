"""The TypeEngine: native Python values to and from flyteidl2 literals."""

from flyte.types._version import __version__

__all__ = ["__version__"]
