"""Spark tasks: the task class ``TaskEnvironment(plugin_config=Spark(...))`` selects."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar, ParamSpec, TypeVar

from flyte.extend import EngineTaskTemplate, LocalEngine, SerializationContext, TaskPluginRegistry
from flyteplugins.spark._config import Spark
from flyteplugins.spark._engine import local_spark

P = ParamSpec("P")
R = TypeVar("R")


@dataclass(kw_only=True)
class PysparkFunctionTask(EngineTaskTemplate[P, R]):
    """A function task run as a Spark application; locally its body gets a real ``SparkSession``."""

    plugin_config: Spark
    task_type: str = "spark"
    engine: ClassVar[LocalEngine[Any, Any]] = local_spark

    def custom_config(self, sctx: SerializationContext) -> dict[str, Any]:
        """The ``flyteidl2.plugins.SparkJob`` the backend's Spark plugin runs, as a dict."""
        # Protobuf loads here, at deploy time, not when a user's module imports the plugin.
        from flyteidl2.core.tasks_pb2 import Container
        from flyteidl2.plugins.spark_pb2 import SparkApplication, SparkJob
        from google.protobuf.json_format import MessageToDict

        cfg = self.plugin_config
        job = SparkJob(
            applicationType=SparkApplication.PYTHON,
            mainApplicationFile=cfg.applications_path or "local://" + sctx.get_entrypoint_path(),
            mainClass="",
            sparkConf=cfg.spark_conf,
            hadoopConf=cfg.hadoop_conf,
            executorPath=cfg.executor_path or sctx.interpreter_path,
            driverPod=cfg.driver_pod.to_proto(Container()) if cfg.driver_pod is not None else None,
            executorPod=cfg.executor_pod.to_proto(Container()) if cfg.executor_pod is not None else None,
        )
        return MessageToDict(job)


TaskPluginRegistry.register(Spark, PysparkFunctionTask)
