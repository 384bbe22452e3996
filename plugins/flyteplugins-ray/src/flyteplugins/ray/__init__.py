"""Ray tasks for Flyte 2: ``TaskEnvironment(plugin_config=RayJobConfig(...))``.

Locally each task's body runs with a real Ray started by ``ray.init`` (or connected to
``RayJobConfig.address``) and shut down after; on a cluster the task is a RayJob.
``local_ray.hold(config)`` keeps the local Ray running across tasks.
"""

from flyteplugins.ray._config import AutoscalerOptionsConfig, HeadNodeConfig, RayJobConfig, WorkerNodeConfig
from flyteplugins.ray._engine import LocalRay, RayRun, local_ray
from flyteplugins.ray._task import RayFunctionTask
from flyteplugins.ray._version import __version__

__all__ = [
    "AutoscalerOptionsConfig",
    "HeadNodeConfig",
    "LocalRay",
    "RayFunctionTask",
    "RayJobConfig",
    "RayRun",
    "WorkerNodeConfig",
    "__version__",
    "local_ray",
]
