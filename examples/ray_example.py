"""Ray on Flyte 2: remote functions on a real local Ray.

    uv run python examples/ray_example.py                # from the workspace root
    flyte run --local examples/ray_example.py main --n 20

Locally the task runs with Ray started by ``ray.init`` (one CPU per configured node, no dashboard,
a small object store) and shut down after; with ``RayJobConfig(address=...)`` it connects to that
cluster instead. Deployed, the task is a RayJob (KubeRay).
"""

import ray

import flyte
from flyteplugins.ray import HeadNodeConfig, RayJobConfig, WorkerNodeConfig

env = flyte.TaskEnvironment(
    name="ray_squares",
    plugin_config=RayJobConfig(
        head_node_config=HeadNodeConfig(ray_start_params={"log-color": "true"}),
        worker_node_config=[WorkerNodeConfig(group_name="workers", replicas=1)],
        shutdown_after_job_finishes=True,
    ),
)


@ray.remote
def square(x: int) -> int:
    return x * x


@env.task
def main(n: int = 20) -> int:
    """The sum of the first `n` squares, each computed by a Ray remote function."""
    return sum(ray.get([square.remote(i) for i in range(n)]))


if __name__ == "__main__":
    flyte.init()
    print(flyte.run(main, n=20).outputs()[0])
