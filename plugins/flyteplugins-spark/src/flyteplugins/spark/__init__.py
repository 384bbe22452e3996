"""Run Flyte 2 tasks on Spark."""

from flyteplugins.spark._version import __version__

__all__ = ["__version__"]
