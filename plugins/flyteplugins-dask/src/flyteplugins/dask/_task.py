"""Dask tasks: the task class ``TaskEnvironment(plugin_config=Dask(...))`` selects."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar, ParamSpec, TypeVar

from flyte.extend import EngineTaskTemplate, LocalEngine, SerializationContext, TaskPluginRegistry, get_proto_resources
from flyteplugins.dask._config import Dask
from flyteplugins.dask._engine import local_dask

P = ParamSpec("P")
R = TypeVar("R")


@dataclass(kw_only=True)
class DaskTask(EngineTaskTemplate[P, R]):
    """A function task with a Dask cluster; locally its body gets a real ``LocalCluster``'s client."""

    plugin_config: Dask
    task_type: str = "dask"
    engine: ClassVar[LocalEngine[Any, Any]] = local_dask

    def custom_config(self, sctx: SerializationContext) -> dict[str, Any]:
        """The ``flyteidl2.plugins.DaskJob`` the backend's Dask plugin runs, as a dict."""
        # Protobuf loads here, at deploy time, not when a user's module imports the plugin.
        from flyteidl2.plugins.dask_pb2 import DaskJob, DaskScheduler, DaskWorkerGroup
        from google.protobuf.json_format import MessageToDict

        scheduler, workers = self.plugin_config.scheduler, self.plugin_config.workers
        job = DaskJob(
            scheduler=DaskScheduler(image=scheduler.image, resources=get_proto_resources(scheduler.resources)),
            workers=DaskWorkerGroup(
                number_of_workers=workers.number_of_workers,
                image=workers.image,
                resources=get_proto_resources(workers.resources),
            ),
        )
        return MessageToDict(job)


TaskPluginRegistry.register(Dask, DaskTask)
