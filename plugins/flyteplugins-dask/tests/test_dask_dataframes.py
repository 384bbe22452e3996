"""Dask DataFrames between tasks: real parquet written partition by partition, read back lazily."""

from __future__ import annotations

import asyncio
import os
from typing import Annotated, Any

import dask.dataframe as dd
import pandas as pd
import pyarrow.parquet as pq
import pytest

from flyte.extend import DataFrame, TypeEngine
from flyte.io import use_raw_data_path
from flyte.runtime import TaskEnvironment, run
from flyteplugins.dask import Dask, WorkerGroup, local_dask

env = TaskEnvironment("dask-frames", plugin_config=Dask(workers=WorkerGroup(number_of_workers=2)))


@env.task
def make_sales(n: int) -> dd.DataFrame:
    frame = pd.DataFrame({"store": [i % 4 for i in range(n)], "amount": [float(i) for i in range(n)]})
    return dd.from_pandas(frame, npartitions=3)


@env.task
def totals_by_store(sales: dd.DataFrame) -> dict[int, float]:
    return {int(k): float(v) for k, v in sales.groupby("store")["amount"].sum().compute().items()}


@env.task
def make_wrapped(n: int) -> DataFrame:
    return DataFrame.from_df(dd.from_pandas(pd.DataFrame({"k": list(range(n))}), npartitions=2))


@env.task
async def total_of_wrapped(frame: DataFrame) -> int:
    data = await frame.open(dd.DataFrame).all()
    return int(data["k"].sum().compute())


pipeline_env = TaskEnvironment("dask-frames-pipeline")


@pipeline_env.task
def pipeline(n: int) -> dict[int, float]:
    return totals_by_store(make_sales(n))


@pipeline_env.task
async def wrapped_pipeline(n: int) -> int:
    return await total_of_wrapped.aio(await make_wrapped.aio(n))


def to_literal(value: Any, python_type: Any) -> Any:
    return asyncio.run(TypeEngine.to_literal(value, python_type, TypeEngine.to_literal_type(python_type)))


def to_python(literal: Any, python_type: Any) -> Any:
    return asyncio.run(TypeEngine.to_python_value(literal, python_type))


@pytest.fixture(scope="module", autouse=True)
def one_cluster():
    with local_dask.hold(Dask(workers=WorkerGroup(number_of_workers=2))) as held:
        yield held


EXPECTED = {0: 0.0 + 4 + 8, 1: 1.0 + 5 + 9, 2: 2.0 + 6 + 10, 3: 3.0 + 7 + 11}


def test_a_task_passes_a_dask_dataframe_to_the_next_in_a_local_run():
    assert run(pipeline, n=12).outputs()[0] == EXPECTED


def test_a_flyte_dataframe_wrapping_a_dask_frame_passes_between_tasks():
    assert run(wrapped_pipeline, n=5).outputs()[0] == 10


def test_a_returned_dask_frame_is_written_as_parquet_that_pyarrow_reads(tmp_path):
    sales = run(make_sales, n=12).outputs()[0]
    with use_raw_data_path(str(tmp_path / "raw")):
        literal = to_literal(sales, dd.DataFrame)
    dataset = literal.scalar.structured_dataset
    assert dataset.metadata.structured_dataset_type.format == "parquet"
    assert dataset.uri.startswith(str(tmp_path / "raw"))
    assert len([f for f in os.listdir(dataset.uri) if f.endswith(".parquet")]) == 3  # one per partition
    table = pq.read_table(dataset.uri)
    assert sorted(table.column("amount").to_pylist()) == [float(i) for i in range(12)]
    back = to_python(literal, dd.DataFrame)
    assert isinstance(back, dd.DataFrame)
    assert run(totals_by_store, sales=back).outputs()[0] == EXPECTED


def test_a_flyte_dataframe_of_a_dask_frame_reads_as_pandas_and_as_dask(tmp_path):
    wrapped = run(make_wrapped, n=4).outputs()[0]
    with use_raw_data_path(str(tmp_path / "raw")):
        literal = to_literal(wrapped, DataFrame)
    assert pq.read_table(literal.scalar.structured_dataset.uri).num_rows == 4
    fdf = to_python(literal, DataFrame)
    assert sorted(asyncio.run(fdf.open(pd.DataFrame).all())["k"]) == [0, 1, 2, 3]
    assert run(total_of_wrapped, frame=fdf).outputs()[0] == 6


def test_dask_reads_what_pandas_wrote_and_only_the_columns_asked_for(tmp_path):
    with use_raw_data_path(str(tmp_path / "raw")):
        literal = to_literal(pd.DataFrame({"a": [1, 2], "b": ["x", "y"], "c": [0.5, 1.5]}), pd.DataFrame)
    narrow = to_python(literal, Annotated[dd.DataFrame, {"a": int, "c": float}])
    assert list(narrow.columns) == ["a", "c"]
    assert sorted(narrow.compute()["a"]) == [1, 2]
    assert list(to_python(literal, dd.DataFrame).columns) == ["a", "b", "c"]


def test_the_frame_is_computed_on_the_local_cluster_when_it_runs(tmp_path, one_cluster):
    def where(_: Any) -> pd.DataFrame:
        from distributed import get_worker

        return pd.DataFrame({"worker": [get_worker().address]})

    frame = dd.from_pandas(pd.DataFrame({"x": [1, 2, 3, 4]}), npartitions=2).map_partitions(
        where, meta=pd.DataFrame({"worker": pd.Series([], dtype=object)})
    )
    with use_raw_data_path(str(tmp_path / "raw")):
        literal = to_literal(frame, dd.DataFrame)
    workers = set(pq.read_table(literal.scalar.structured_dataset.uri).column("worker").to_pylist())
    assert workers
    assert workers <= set(one_cluster.client.scheduler_info()["workers"])


def test_the_declared_type_is_a_structured_dataset():
    literal_type = TypeEngine.to_literal_type(dd.DataFrame)
    assert literal_type.HasField("structured_dataset_type")
    assert literal_type.structure.tag.endswith(".DataFrame")
