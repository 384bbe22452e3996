"""One local Ray across tasks: reused while idle, restarted for different local sizes, stopped on demand."""

from __future__ import annotations

import time

import ray

from flyte.runtime import TaskEnvironment, run
from flyteplugins.ray import HeadNodeConfig, RayJobConfig, WorkerNodeConfig, local_ray

ONE_WORKER = RayJobConfig(worker_node_config=[WorkerNodeConfig("workers", replicas=1)])
env = TaskEnvironment("ray-reuse", plugin_config=ONE_WORKER)


@env.task
def cluster() -> tuple[str, float]:
    @ray.remote
    def one() -> int:
        return 1

    assert ray.get(one.remote()) == 1
    return str(ray.get_runtime_context().get_job_id()), float(ray.cluster_resources()["CPU"])


def timed(task: object) -> tuple[float, tuple[str, float]]:
    started = time.perf_counter()
    job, cpus = run(task).outputs()  # type: ignore[arg-type]
    return time.perf_counter() - started, (job, cpus)


def test_ray_is_reused_while_idle_and_restarted_for_other_local_sizes():
    local_ray.shutdown()
    local_ray.idle_timeout = 60
    try:
        first_s, (job, cpus) = timed(cluster)
        assert cpus == 2  # head + one worker replica
        assert ray.is_initialized()
        assert local_ray.users == 0
        second_s, again = timed(cluster)
        assert again == (job, cpus)  # the same Ray driver: no second ray.init
        assert second_s < first_s / 2, (first_s, second_s)
        # Pod settings do not shape a local Ray: reused. A different CPU count does not fit: restarted.
        same_size = RayJobConfig(worker_node_config=[WorkerNodeConfig("workers", replicas=1, min_replicas=1)])
        assert timed(cluster.override(plugin_config=same_size))[1] == (job, cpus)
        one_cpu = RayJobConfig(
            worker_node_config=[], head_node_config=HeadNodeConfig(ray_start_params={"num-cpus": "1"})
        )
        _, (_new_job, new_cpus) = timed(cluster.override(plugin_config=one_cpu))
        assert new_cpus == 1
        assert local_ray.shutdown()
        assert not ray.is_initialized()
    finally:
        local_ray.idle_timeout = None
        local_ray.shutdown()
