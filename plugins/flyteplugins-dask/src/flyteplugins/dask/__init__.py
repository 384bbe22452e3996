"""Run Flyte 2 tasks on Dask."""

from flyteplugins.dask._version import __version__

__all__ = ["__version__"]
