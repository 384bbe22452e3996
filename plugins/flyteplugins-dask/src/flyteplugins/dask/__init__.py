"""Dask tasks for Flyte 2: ``TaskEnvironment(plugin_config=Dask(...))``.

Locally each task's body runs with a real ``distributed.LocalCluster`` whose client is
``flyte.ctx().data["dask_client"]`` (and the default client); on a cluster the task is a DaskJob.
Between tasks the local cluster stays up for the next one (``local_dask.idle_timeout``);
``local_dask.hold(Dask())`` keeps it for a whole block. Dask DataFrames pass between tasks as
parquet datasets (with the ``dataframe`` extra).
"""

from flyteplugins.dask._config import Dask, Scheduler, WorkerGroup
from flyteplugins.dask._dataframe_registration import register_lazily
from flyteplugins.dask._engine import DaskRun, LocalDask, local_dask
from flyteplugins.dask._task import DaskTask
from flyteplugins.dask._version import __version__

__all__ = ["Dask", "DaskRun", "DaskTask", "LocalDask", "Scheduler", "WorkerGroup", "__version__", "local_dask"]

register_lazily()
