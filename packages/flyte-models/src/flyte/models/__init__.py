"""Identifiers, task specifications and typed interfaces, and their flyteidl2 conversions."""

from flyte.models._version import __version__

__all__ = ["__version__"]
