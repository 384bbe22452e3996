"""When the Dask DataFrame handlers register: the first time the type engine meets a Dask DataFrame type.

Importing :mod:`flyteplugins.dask` (or the type engine loading the entry point
``flyte.plugins.types``) only notes the registration; ``dask.dataframe`` (pandas, pyarrow) and the
handlers load when a task signature or a ``flyte.io.DataFrame`` actually involves a Dask DataFrame.
"""

from __future__ import annotations


def register_lazily() -> None:
    """Have the type engine register the Dask DataFrame handlers on its first ``dask.dataframe`` type."""
    from flyte.extend import TypeEngine

    TypeEngine.register_lazy("dask.dataframe", _register)


def _register() -> None:
    from flyteplugins.dask._dataframe import register_handlers

    register_handlers()
