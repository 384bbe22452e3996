"""Spark DataFrames between tasks: real parquet written by Spark, read back by Spark, pandas and pyarrow."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import textwrap
from typing import Annotated, Any

import pandas as pd
import pyarrow.parquet as pq
from pyspark.sql import DataFrame as SparkDataFrame

from flyte.extend import DataFrame, TypeEngine, ctx
from flyte.io import use_raw_data_path
from flyte.runtime import TaskEnvironment, run
from flyteplugins.spark import Spark

env = TaskEnvironment("spark-frames", plugin_config=Spark(spark_conf={"spark.sql.shuffle.partitions": "2"}))


def session() -> Any:
    tctx = ctx()
    assert tctx is not None
    return tctx.data["spark_session"]


@env.task
def make_people(n: int) -> SparkDataFrame:
    rows = [(i, f"p{i}", i % 3) for i in range(n)]
    return session().createDataFrame(rows, ["id", "name", "team"]).repartition(3)


@env.task
def team_sizes(people: SparkDataFrame) -> dict[int, int]:
    return {row["team"]: row["count"] for row in people.groupBy("team").count().collect()}


@env.task
def make_wrapped(n: int) -> DataFrame:
    return DataFrame.from_df(session().range(n).withColumnRenamed("id", "k"))


@env.task
async def total_of_wrapped(frame: DataFrame) -> int:
    spark_frame = await frame.open(SparkDataFrame).all()
    return int(spark_frame.groupBy().sum("k").collect()[0][0])


pipeline_env = TaskEnvironment("spark-frames-pipeline")


@pipeline_env.task
def pipeline(n: int) -> dict[int, int]:
    return team_sizes(make_people(n))


@pipeline_env.task
async def wrapped_pipeline(n: int) -> int:
    return await total_of_wrapped.aio(await make_wrapped.aio(n))


def to_literal(value: Any, python_type: Any) -> Any:
    return asyncio.run(TypeEngine.to_literal(value, python_type, TypeEngine.to_literal_type(python_type)))


def to_python(literal: Any, python_type: Any) -> Any:
    return asyncio.run(TypeEngine.to_python_value(literal, python_type))


def test_a_task_passes_a_spark_dataframe_to_the_next_in_a_local_run():
    assert run(pipeline, n=9).outputs()[0] == {0: 3, 1: 3, 2: 3}


def test_a_flyte_dataframe_wrapping_a_spark_frame_passes_between_tasks():
    assert run(wrapped_pipeline, n=5).outputs()[0] == 10


def test_one_run_output_is_the_next_runs_input():
    people = run(make_people, n=9).outputs()[0]
    assert isinstance(people, SparkDataFrame)
    assert run(team_sizes, people=people).outputs()[0] == {0: 3, 1: 3, 2: 3}
    wrapped = run(make_wrapped, n=5).outputs()[0]
    assert run(total_of_wrapped, frame=wrapped).outputs()[0] == 10


def test_a_returned_spark_frame_is_written_as_parquet_that_pyarrow_reads(tmp_path):
    people = run(make_people, n=6).outputs()[0]
    with use_raw_data_path(str(tmp_path / "raw")):
        literal = to_literal(people, SparkDataFrame)
    dataset = literal.scalar.structured_dataset
    assert dataset.metadata.structured_dataset_type.format == "parquet"
    assert dataset.uri.startswith(str(tmp_path / "raw"))
    parts = [f for f in os.listdir(dataset.uri) if f.endswith(".parquet")]
    assert len(parts) == 3  # Spark's own writer: one file per partition
    table = pq.read_table(dataset.uri)
    assert sorted(table.column("id").to_pylist()) == list(range(6))
    assert table.schema.names == ["id", "name", "team"]
    # ... and the next task, given the literal as a remote action would be, reads it with Spark.
    back = to_python(literal, SparkDataFrame)
    assert isinstance(back, SparkDataFrame)
    assert run(team_sizes, people=back).outputs()[0] == {0: 2, 1: 2, 2: 2}


def test_a_flyte_dataframe_of_a_spark_frame_reads_as_pandas_and_as_spark(tmp_path):
    wrapped = run(make_wrapped, n=4).outputs()[0]
    with use_raw_data_path(str(tmp_path / "raw")):
        literal = to_literal(wrapped, DataFrame)
    assert pq.read_table(literal.scalar.structured_dataset.uri).num_rows == 4
    fdf = to_python(literal, DataFrame)
    assert fdf.val is None  # a reference: nothing read yet
    frame = asyncio.run(fdf.open(pd.DataFrame).all())
    assert sorted(frame["k"]) == [0, 1, 2, 3]
    assert run(total_of_wrapped, frame=fdf).outputs()[0] == 6


def test_spark_reads_what_pandas_wrote_and_only_the_columns_asked_for(tmp_path):
    with use_raw_data_path(str(tmp_path / "raw")):
        literal = to_literal(pd.DataFrame({"a": [1, 2], "b": ["x", "y"], "c": [0.5, 1.5]}), pd.DataFrame)
    narrow = to_python(literal, Annotated[SparkDataFrame, {"a": int, "c": float}])
    assert narrow.columns == ["a", "c"]
    assert sorted(r["a"] for r in narrow.collect()) == [1, 2]
    assert to_python(literal, SparkDataFrame).columns == ["a", "b", "c"]


def test_the_declared_type_is_a_structured_dataset():
    literal_type = TypeEngine.to_literal_type(SparkDataFrame)
    assert literal_type.HasField("structured_dataset_type")
    assert literal_type.structure.tag == "pyspark.sql.dataframe.DataFrame"


def test_a_frame_of_a_stopped_session_is_refused_with_a_clear_error(tmp_path):
    # A fresh process: stopping a session here would stop the one the other tests share.
    script = textwrap.dedent(
        f"""
        import asyncio
        from pyspark.sql import DataFrame, SparkSession
        from flyte.extend import TypeEngine
        from flyte.io import use_raw_data_path
        import flyteplugins.spark

        own = SparkSession.builder.master("local[1]").config("spark.ui.enabled", "false").getOrCreate()
        frame = own.range(2)
        own.stop()
        with use_raw_data_path({str(tmp_path)!r}):
            try:
                asyncio.run(TypeEngine.to_literal(frame, DataFrame, TypeEngine.to_literal_type(DataFrame)))
            except Exception as e:
                print("REFUSED", e)
        """
    )
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=180, check=False)
    assert "REFUSED" in out.stdout, out.stderr[-2000:]
    assert "SparkSession it belongs to was stopped" in out.stdout
