"""``Dask``, ``Scheduler`` and ``WorkerGroup``: the cluster a Dask task runs with."""

from __future__ import annotations

from dataclasses import dataclass, field

from flyte.extend import Resources


@dataclass
class Scheduler:
    """The scheduler pod.

    Args:
        image: the image to run; the task's image when None. It needs ``dask[distributed]`` and
            the same Python environment as the task.
        resources: what the scheduler pod asks for.
    """

    image: str | None = None
    resources: Resources | None = None

    def __post_init__(self) -> None:
        _check_image_and_resources(self.image, self.resources, "Scheduler")


@dataclass
class WorkerGroup:
    """The worker pods.

    Args:
        number_of_workers: how many workers (at least 1). Locally the cluster has this many
            worker processes, capped at the machine's CPU count.
        image: the image to run; the task's image when None.
        resources: what each worker pod asks for.
    """

    number_of_workers: int | None = 1
    image: str | None = None
    resources: Resources | None = None

    def __post_init__(self) -> None:
        n = self.number_of_workers
        if n is not None and (isinstance(n, bool) or not isinstance(n, int)):
            raise TypeError(f"WorkerGroup.number_of_workers must be an int, got {type(n).__name__} {n!r}")
        if n is not None and n < 1:
            raise ValueError(f"WorkerGroup.number_of_workers must be at least 1, got {n}")
        _check_image_and_resources(self.image, self.resources, "WorkerGroup")


@dataclass
class Dask:
    """Run the task with a Dask cluster: a real ``distributed.LocalCluster`` locally, a DaskJob on a cluster.

    Inside the task ``flyte.ctx().data["dask_client"]`` is a client of that cluster, and it is the
    default one: ``dask.compute(...)``, ``distributed.get_client()`` and ``Client()`` use it.

    Args:
        scheduler: the scheduler pod.
        workers: the default worker group.

    Example:
        >>> Dask(workers=WorkerGroup(number_of_workers=4)).workers.number_of_workers
        4
    """

    scheduler: Scheduler = field(default_factory=Scheduler)
    workers: WorkerGroup = field(default_factory=WorkerGroup)

    def __post_init__(self) -> None:
        if not isinstance(self.scheduler, Scheduler):
            raise TypeError(f"Dask.scheduler must be a Scheduler, got {type(self.scheduler).__name__}")
        if not isinstance(self.workers, WorkerGroup):
            raise TypeError(f"Dask.workers must be a WorkerGroup, got {type(self.workers).__name__}")


def _check_image_and_resources(image: object, resources: object, owner: str) -> None:
    if image is not None and not isinstance(image, str):
        raise TypeError(f"{owner}.image must be an image URI string, got {type(image).__name__}")
    if resources is not None and not isinstance(resources, Resources):
        raise TypeError(f"{owner}.resources must be a flyte.Resources, got {type(resources).__name__}")
