"""The ``flyte`` command line.

The console script is ``flyte = flyte.cli._main:main``. Verbs (``get``, ``create``, ...) are
imported only when invoked, so ``flyte --help`` stays fast.
"""

from flyte.cli._version import __version__

__all__ = ["__version__"]
