"""Spark tasks for Flyte 2: ``TaskEnvironment(plugin_config=Spark(...))``.

Locally each task's body finds a real ``SparkSession`` in ``flyte.ctx().data["spark_session"]``;
on a cluster the task is a SparkJob. ``local_spark.hold(Spark())`` keeps the local session
running across tasks.
"""

from flyteplugins.spark._config import Spark
from flyteplugins.spark._engine import LocalSpark, SparkRun, local_spark
from flyteplugins.spark._task import PysparkFunctionTask
from flyteplugins.spark._version import __version__

__all__ = ["LocalSpark", "PysparkFunctionTask", "Spark", "SparkRun", "__version__", "local_spark"]
