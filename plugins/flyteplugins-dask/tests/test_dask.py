"""Dask tasks on a real distributed.LocalCluster."""

from __future__ import annotations

import operator
import time
from collections.abc import Callable
from functools import reduce
from typing import Any, ClassVar

import dask
import pytest
from distributed import Client, LocalCluster, get_client
from flyteidl2.plugins.dask_pb2 import DaskJob
from google.protobuf import json_format

from flyte.extend import Resources, RuntimeSystemError, SerializationContext, ctx
from flyte.extend.testing import PluginConformance
from flyte.runtime import TaskEnvironment, run
from flyteplugins.dask import Dask, DaskTask, Scheduler, WorkerGroup, local_dask

SCTX = SerializationContext(version="v1")
env = TaskEnvironment("dask-tests", plugin_config=Dask(workers=WorkerGroup(number_of_workers=2)))


def client() -> Client:
    tctx = ctx()
    assert tctx is not None
    dask_client: Client = tctx.data["dask_client"]
    return dask_client


def square(x: int) -> int:
    return x * x


def sum_of_squares(n: int) -> int:
    squares = client().map(square, range(n))
    total = client().submit(sum, squares)
    return int(total.result())


@env.task
def map_reduce(n: int) -> tuple[int, int]:
    """A distributed map/reduce: the work spreads over the cluster's worker processes."""
    import os

    squares = client().map(square, range(n))
    product = client().submit(reduce, operator.add, squares).result()
    pids = set(client().run(os.getpid).values())
    return int(product), len(pids)


@env.task
def with_plain_dask_api(n: int) -> tuple[int, str]:
    """Code written for a Dask cluster (dask.delayed, Client(), get_client()) finds the local one."""
    total = dask.delayed(sum)([dask.delayed(square)(i) for i in range(n)]).compute()
    with Client() as fresh:  # what a body does on a cluster: connect to the configured scheduler
        address = fresh.scheduler.address
    assert get_client().scheduler.address == address
    return int(total), str(address)


CLUSTER = Dask(workers=WorkerGroup(number_of_workers=2))


@pytest.fixture(scope="class")
def one_cluster():
    """One cluster for a class's tests: each task joins it instead of starting its own (seconds each)."""
    with local_dask.hold(CLUSTER) as held:
        yield held


@pytest.mark.usefixtures("one_cluster")
class TestDaskConformance(PluginConformance):
    task_type = "dask"
    custom_message = DaskJob
    task_inputs: ClassVar[dict[str, Any]] = {"n": 10}
    expected_output = 285
    context_keys = frozenset({"dask_client"})

    def plugin_config(self) -> Dask:
        return Dask(scheduler=Scheduler(image="ghcr.io/org/dask:1"), workers=WorkerGroup(number_of_workers=2))

    def expected_custom(self, sctx: SerializationContext) -> dict[str, Any]:
        return {"scheduler": {"image": "ghcr.io/org/dask:1"}, "workers": {"numberOfWorkers": 2}}

    def task_body(self) -> Callable[..., Any]:
        return sum_of_squares


@pytest.mark.usefixtures("one_cluster")
class TestOnALocalCluster:
    def test_a_distributed_map_reduce_runs_on_the_cluster_workers(self):
        total, workers = run(map_reduce, n=100).outputs()
        assert total == sum(i * i for i in range(100))
        assert workers == 2

    def test_dask_code_written_for_a_cluster_uses_the_local_one(self, one_cluster):
        total, address = run(with_plain_dask_api, n=10).outputs()
        assert total == 285
        assert address == one_cluster.cluster.scheduler_address
        assert address.startswith("tcp://127.0.0.1:")


@pytest.fixture
def no_cluster():
    """A test that starts from no running cluster (an idle one from an earlier test is stopped)."""
    assert local_dask.users == 0
    local_dask.shutdown()
    yield
    local_dask.idle_timeout = None


@pytest.mark.usefixtures("no_cluster")
def test_a_task_starts_a_cluster_sized_from_its_config_and_it_stays_idle_for_the_next():
    local_dask.idle_timeout = 60
    total, workers = run(map_reduce, n=10).outputs()
    assert (total, workers) == (285, 2)
    assert local_dask.running
    assert local_dask.users == 0
    assert local_dask.handle is not None
    assert local_dask.handle.cluster is not None
    address = local_dask.handle.cluster.scheduler_address
    assert dask.config.get("scheduler-address", None) == address
    assert local_dask.shutdown()
    assert dask.config.get("scheduler-address", None) is None  # the setting it made is undone


@env.task
def scheduler_address() -> str:
    return str(client().scheduler.address)


@pytest.mark.usefixtures("no_cluster")
def test_the_next_task_reuses_the_idle_cluster_and_skips_its_start():
    local_dask.idle_timeout = 60
    started = time.perf_counter()
    first = run(scheduler_address).outputs()[0]
    first_s = time.perf_counter() - started
    started = time.perf_counter()
    second = run(scheduler_address).outputs()[0]
    second_s = time.perf_counter() - started
    assert second == first
    assert second_s < first_s / 2, (first_s, second_s)


@pytest.mark.usefixtures("no_cluster")
def test_a_different_worker_count_starts_a_new_cluster_and_images_do_not():
    local_dask.idle_timeout = 60
    first = run(scheduler_address).outputs()[0]
    same_size = Dask(scheduler=Scheduler(image="img:2"), workers=WorkerGroup(number_of_workers=2, image="img:2"))
    assert run(scheduler_address.override(plugin_config=same_size)).outputs()[0] == first
    one_worker = Dask(workers=WorkerGroup(number_of_workers=1))
    second = run(scheduler_address.override(plugin_config=one_worker)).outputs()[0]
    assert second != first
    assert local_dask.handle is not None
    assert len(local_dask.handle.cluster.workers) == 1


@pytest.mark.usefixtures("no_cluster")
def test_with_no_idle_time_the_cluster_stops_after_the_task():
    local_dask.idle_timeout = 0
    assert run(map_reduce, n=3).outputs()[0] == 5
    assert not local_dask.running
    assert dask.config.get("scheduler-address", None) is None


@pytest.mark.usefixtures("no_cluster")
def test_an_already_configured_scheduler_is_used_instead_of_a_new_cluster():
    local_dask.idle_timeout = 60
    run(scheduler_address)  # our own cluster, left idle: a configured scheduler must still win
    with LocalCluster(n_workers=1, threads_per_worker=1, host="127.0.0.1", dashboard_address=None) as cluster:
        with dask.config.set({"scheduler-address": cluster.scheduler_address}):
            total, address = run(with_plain_dask_api, n=4).outputs()
            assert local_dask.shutdown()
            # Stopping our connection leaves the user's setting alone.
            assert dask.config.get("scheduler-address") == cluster.scheduler_address
        assert address == cluster.scheduler_address
        assert total == 14
    # The `with` block restored the address of our cluster, stopped since: it is not used again.
    assert run(scheduler_address).outputs()[0] != cluster.scheduler_address
    assert local_dask.handle is not None
    assert local_dask.handle.cluster is not None


@pytest.mark.usefixtures("no_cluster")
def test_a_scheduler_that_does_not_answer_is_a_system_error_naming_dask():
    unreachable = {"scheduler-address": "tcp://127.0.0.1:9", "distributed.comm.timeouts.connect": "1s"}
    with dask.config.set(unreachable), pytest.raises(RuntimeSystemError, match="dask engine failed to start") as info:
        run(map_reduce, n=3)
    assert info.value.engine == "dask"
    assert not local_dask.running


def test_the_custom_config_is_a_dask_job_with_the_configured_values():
    config = Dask(
        scheduler=Scheduler(image="img:1", resources=Resources(cpu=1, memory="2Gi")),
        workers=WorkerGroup(number_of_workers=5, image="img:2", resources=Resources(cpu=(2, 4))),
    )
    task = env.task(sum_of_squares).override(plugin_config=config)
    assert isinstance(task, DaskTask)
    job = json_format.ParseDict(task.custom_config(SCTX), DaskJob())
    assert (job.scheduler.image, job.workers.image, job.workers.number_of_workers) == ("img:1", "img:2", 5)
    assert [(r.name, r.value) for r in job.scheduler.resources.requests] == [(1, "1"), (3, "2Gi")]
    assert [(r.name, r.value) for r in job.workers.resources.limits] == [(1, "4")]


@pytest.mark.parametrize(
    ("make", "error", "message"),
    [
        (lambda: WorkerGroup(number_of_workers=-2), ValueError, "at least 1, got -2"),
        (lambda: WorkerGroup(number_of_workers=0), ValueError, "at least 1, got 0"),
        (lambda: WorkerGroup(number_of_workers="3"), TypeError, "must be an int"),
        (lambda: Scheduler(resources={"cpu": 1}), TypeError, "must be a flyte.Resources"),
        (lambda: Dask(workers=3), TypeError, "must be a WorkerGroup"),
    ],
)
def test_a_bad_config_is_refused_when_it_is_made(make, error, message):
    with pytest.raises(error, match=message):
        make()


def test_a_local_cluster_has_at_most_one_worker_per_cpu():
    from flyteplugins.dask._engine import local_workers

    assert local_workers(Dask(workers=WorkerGroup(number_of_workers=1))) == 1
    assert local_workers(Dask(workers=WorkerGroup(number_of_workers=10_000))) == (__import__("os").cpu_count() or 1)
