"""Client objects for a Flyte 2 backend: runs, actions, tasks, projects and secrets."""

from flyte.remote._version import __version__

__all__ = ["__version__"]
