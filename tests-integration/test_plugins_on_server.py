"""The Dask, Spark and Ray plugins' tasks run remotely on the embedded server, through a0.

``flyte.run`` in remote mode against ``python -m flyte.server --port 0`` (loopback, its own data
dir, always stopped at the end): every action is a real ``a0`` process that imports
``plugins_project/plugin_tasks.py`` from the uploaded bundle, starts the plugin's local engine
(a ``distributed.LocalCluster``, a ``SparkSession``, ``ray.init``) around the body, and writes its outputs as
literals: Dask and Spark DataFrames as parquet datasets in the server's store.
"""

from __future__ import annotations

import importlib
import os
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import dask.dataframe as dd
import pyarrow.parquet as pq
import pytest

import flyte.runtime as fr
from flyte.io import DataFrame
from flyte.runtime import _init
from flyte.server.testing import running_server

PROJECT_DIR = Path(__file__).parent / "plugins_project"
WAIT_SECONDS = 300  # a Spark action starts a JVM; on a loaded machine that takes a while


@pytest.fixture(scope="module")
def server_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    data_dir = tmp_path_factory.mktemp("plugins-server") / "data"
    with running_server(data_dir, env={"SPARK_LOCAL_IP": "127.0.0.1"}) as server:
        yield server.url


@pytest.fixture
def tasks(monkeypatch: pytest.MonkeyPatch) -> ModuleType:
    monkeypatch.syspath_prepend(str(PROJECT_DIR))
    return importlib.import_module("plugin_tasks")


@pytest.fixture
def remote(server_url: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[str]:
    monkeypatch.setenv("FLYTE_LOCAL_RUNS_DIR", str(tmp_path / "runs"))
    monkeypatch.setattr(_init, "_state", None)
    fr.init(endpoint=server_url, insecure=True, project="plugins", domain="development", root_dir=PROJECT_DIR)
    yield server_url
    _init._state = None


def finished(run: fr.Run) -> fr.Run:
    run.wait(timeout=WAIT_SECONDS)
    assert run.phase == "SUCCEEDED", run.phase
    return run


def test_a_dask_task_runs_a_map_reduce_on_a_local_cluster_in_its_action(remote, tasks):
    run = finished(fr.run(tasks.dask_sum_of_squares, 20))
    total, workers, scheduler = run.outputs()
    assert total == sum(i * i for i in range(20))
    assert workers == 2
    assert scheduler.startswith("tcp://127.0.0.1:")


def test_a_dask_dataframe_output_is_parquet_and_the_next_action_reads_it(remote, tasks):
    made = finished(fr.run(tasks.dask_frame, 10))
    output = made.outputs()[0]  # a reference to the dataset the action wrote in the server's store
    assert isinstance(output, DataFrame)
    table = pq.read_table(output.uri)
    assert sorted(table.column("k").to_pylist()) == list(range(10))
    assert len([f for f in os.listdir(output.uri) if f.endswith(".parquet")]) == 2  # one per partition
    counted = finished(fr.run(tasks.dask_count_even, dd.read_parquet(output.uri)))
    assert counted.outputs()[0] == 5


def test_a_spark_task_runs_with_a_spark_session_in_its_action(remote, tasks):
    estimate = finished(fr.run(tasks.spark_pi, 20_000)).outputs()[0]
    assert abs(estimate - 3.14159) < 0.1


def test_a_spark_dataframe_output_is_parquet_and_the_next_action_reads_it(remote, tasks):
    made = finished(fr.run(tasks.spark_frame, 6))
    output = made.outputs()[0]
    assert isinstance(output, DataFrame)
    assert sorted(pq.read_table(output.uri).column("k").to_pylist()) == list(range(6))
    assert any(f.startswith("part-") for f in os.listdir(output.uri))  # Spark's own writer
    # The reference goes on to the next action, which reads it with its own SparkSession.
    total = finished(fr.run(tasks.spark_total, output))
    assert total.outputs()[0] == 15


def test_a_ray_task_runs_remote_functions_in_its_action(remote, tasks):
    total, cpus = finished(fr.run(tasks.ray_sum_of_squares, 12)).outputs()
    assert total == sum(i * i for i in range(12))
    assert cpus == 3  # the plugin started Ray from the task's config around the body
