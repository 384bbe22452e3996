"""Run Flyte 2 tasks on Ray."""

from flyteplugins.ray._version import __version__

__all__ = ["__version__"]
