"""Dask on Flyte 2: a distributed map/reduce on a real local Dask cluster.

    uv run python examples/dask_example.py               # from the workspace root
    flyte run --local examples/dask_example.py main --n 1000

Locally the task runs with a ``distributed.LocalCluster`` (one worker process per configured
worker, at most one per CPU, on 127.0.0.1); its client is ``flyte.ctx().data["dask_client"]`` and
the default one, so ``dask.compute`` and ``Client()`` use it. Deployed, the task is a DaskJob.
"""

import flyte
from flyteplugins.dask import Dask, Scheduler, WorkerGroup

env = flyte.TaskEnvironment(
    name="dask_squares",
    plugin_config=Dask(scheduler=Scheduler(), workers=WorkerGroup(number_of_workers=2)),
)


def square(x: int) -> int:
    return x * x


@env.task
def main(n: int = 1000) -> int:
    """The sum of the first `n` squares: squares mapped over the workers, summed on one."""
    client = flyte.ctx().data["dask_client"]
    squares = client.map(square, range(n))
    return client.submit(sum, squares).result()


# The guard matters: Dask's worker processes import this module again.
if __name__ == "__main__":
    flyte.init()
    print(flyte.run(main, n=1000).outputs()[0])
