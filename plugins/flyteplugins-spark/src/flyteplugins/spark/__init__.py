"""Spark tasks for Flyte 2: ``TaskEnvironment(plugin_config=Spark(...))``.

Locally each task's body finds a real ``SparkSession`` in ``flyte.ctx().data["spark_session"]``;
on a cluster the task is a SparkJob. Between tasks the local session stays up for the next one
(``local_spark.idle_timeout``); ``local_spark.hold(Spark())`` keeps it for a whole block. Spark
DataFrames pass between tasks as parquet datasets.
"""

from flyteplugins.spark._config import Spark
from flyteplugins.spark._dataframe_registration import register_lazily
from flyteplugins.spark._engine import LocalSpark, SparkRun, local_spark
from flyteplugins.spark._task import PysparkFunctionTask
from flyteplugins.spark._version import __version__

__all__ = [
    "LocalSpark",
    "PysparkFunctionTask",
    "Spark",
    "SparkRun",
    "__version__",
    "local_spark",
]

register_lazily()
