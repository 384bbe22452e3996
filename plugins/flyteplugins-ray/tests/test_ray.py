"""Ray tasks on a real local Ray: one ``ray.init`` for this module, shut down at its end."""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from typing import Any, ClassVar

import pytest
import ray
from flyteidl2.plugins.ray_pb2 import RayJob

from flyte.extend import SerializationContext
from flyte.extend.testing import PluginConformance
from flyte.runtime import TaskEnvironment, run
from flyteplugins.ray import HeadNodeConfig, RayJobConfig, WorkerNodeConfig, local_ray

CONFIG = RayJobConfig(worker_node_config=[WorkerNodeConfig("workers", replicas=1)])
env = TaskEnvironment("ray-tests", plugin_config=CONFIG)


@pytest.fixture(scope="module", autouse=True)
def one_ray():
    """Ray starts once for the module (seconds); every task joins it, and it stops at the end."""
    local_ray.shutdown()  # an idle Ray left by an earlier module
    assert not ray.is_initialized()
    with local_ray.hold(CONFIG) as held:
        yield held
    assert ray.is_initialized(), "the engine keeps Ray up, idle, for the next task"
    assert local_ray.shutdown()
    assert not ray.is_initialized()
    assert held.temp_dir is not None
    assert not os.path.exists(held.temp_dir)


def sum_of_squares(n: int) -> int:
    @ray.remote
    def square(x: int) -> int:
        return x * x

    return sum(ray.get([square.remote(i) for i in range(n)]))


@env.task
async def spread(tasks: int) -> tuple[int, int]:
    """Remote functions running at the same time land on different worker processes."""

    @ray.remote
    def worker_pid(i: int) -> int:
        time.sleep(0.5)
        return os.getpid()

    pids = ray.get([worker_pid.remote(i) for i in range(tasks)])
    return len(pids), len(set(pids))


@env.task
def actor_counts(n: int) -> int:
    @ray.remote
    class Counter:
        def __init__(self) -> None:
            self.value = 0

        def add(self, k: int) -> int:
            self.value += k
            return self.value

    counter = Counter.remote()  # type: ignore[attr-defined]
    results = ray.get([counter.add.remote(1) for _ in range(n)])
    return int(results[-1])


class TestRayConformance(PluginConformance):
    task_type = "ray"
    custom_message = RayJob
    task_inputs: ClassVar[dict[str, Any]] = {"n": 10}
    expected_output = 285

    def plugin_config(self) -> RayJobConfig:
        return RayJobConfig(
            worker_node_config=[WorkerNodeConfig("workers", replicas=2, min_replicas=1, max_replicas=4)],
            head_node_config=HeadNodeConfig(ray_start_params={"num-cpus": "1"}),
            enable_autoscaling=True,
            shutdown_after_job_finishes=True,
            ttl_seconds_after_finished=60,
        )

    def expected_custom(self, sctx: SerializationContext) -> dict[str, Any]:
        return {
            "rayCluster": {
                "headGroupSpec": {"rayStartParams": {"num-cpus": "1"}},
                "workerGroupSpec": [{"groupName": "workers", "replicas": 2, "minReplicas": 1, "maxReplicas": 4}],
                "enableAutoscaling": True,
            },
            "shutdownAfterJobFinishes": True,
            "ttlSecondsAfterFinished": 60,
        }

    def task_body(self) -> Callable[..., Any]:
        return sum_of_squares


def test_remote_functions_spread_across_worker_processes():
    submitted, workers = run(spread, tasks=4).outputs()
    assert submitted == 4
    assert workers == 2  # two CPUs: one per configured node (head + 1 worker replica)


def test_an_actor_keeps_state_across_calls():
    assert run(actor_counts, n=5).outputs()[0] == 5


def test_local_ray_is_sized_from_the_config_with_a_small_object_store():
    resources = ray.cluster_resources()
    assert resources["CPU"] == 2
    assert resources["object_store_memory"] <= 128 * 1024 * 1024
