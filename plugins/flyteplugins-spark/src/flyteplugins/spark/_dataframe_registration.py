"""When the Spark DataFrame handlers register: the first time the type engine meets a pyspark type.

Importing :mod:`flyteplugins.spark` (or the type engine loading the entry point
``flyte.plugins.types``) only notes the registration; pyspark and the handlers load when a task
signature or a ``flyte.io.DataFrame`` actually involves a Spark DataFrame.
"""

from __future__ import annotations


def register_lazily() -> None:
    """Have the type engine register the Spark DataFrame handlers on its first pyspark type."""
    from flyte.extend import TypeEngine

    TypeEngine.register_lazy("pyspark", _register)


def _register() -> None:
    from flyteplugins.spark._dataframe import register_handlers

    register_handlers()
