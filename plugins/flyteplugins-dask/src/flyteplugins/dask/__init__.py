"""Dask tasks for Flyte 2: ``TaskEnvironment(plugin_config=Dask(...))``.

Locally each task's body runs with a real ``distributed.LocalCluster`` whose client is
``flyte.ctx().data["dask_client"]`` (and the default client); on a cluster the task is a DaskJob.
``local_dask.hold(Dask())`` keeps the local cluster running across tasks.
"""

from flyteplugins.dask._config import Dask, Scheduler, WorkerGroup
from flyteplugins.dask._engine import DaskRun, LocalDask, local_dask
from flyteplugins.dask._task import DaskTask
from flyteplugins.dask._version import __version__

__all__ = ["Dask", "DaskRun", "DaskTask", "LocalDask", "Scheduler", "WorkerGroup", "__version__", "local_dask"]
