"""Plugin tasks the server tests send to a real embedded server (a0 imports this file from the bundle)."""

from __future__ import annotations

import operator
import os
from functools import reduce

import dask.dataframe as dd
import pandas as pd
from pyspark.sql import DataFrame as SparkDataFrame

import flyte.runtime as fr
from flyte.io import DataFrame
from flyteplugins.dask import Dask, WorkerGroup
from flyteplugins.ray import HeadNodeConfig, RayJobConfig, WorkerNodeConfig
from flyteplugins.spark import Spark

dask_env = fr.TaskEnvironment("plugins_dask", plugin_config=Dask(workers=WorkerGroup(number_of_workers=2)))
ray_env = fr.TaskEnvironment(
    "plugins_ray",
    plugin_config=RayJobConfig(
        head_node_config=HeadNodeConfig(ray_start_params={"num-cpus": "3"}),
        worker_node_config=[WorkerNodeConfig("workers", replicas=1)],
    ),
)
spark_env = fr.TaskEnvironment("plugins_spark", plugin_config=Spark(spark_conf={"spark.sql.shuffle.partitions": "2"}))


def _data() -> dict:
    tctx = fr.ctx()
    assert tctx is not None
    return tctx.data


def square(x: int) -> int:
    return x * x


@dask_env.task
def dask_sum_of_squares(n: int) -> tuple[int, int, str]:
    """A map/reduce on the action's LocalCluster: the total, the worker processes, the scheduler."""
    client = _data()["dask_client"]
    total = client.submit(reduce, operator.add, client.map(square, range(n))).result()
    pids = set(client.run(os.getpid).values())
    return int(total), len(pids), str(client.scheduler.address)


@dask_env.task
def dask_frame(n: int) -> dd.DataFrame:
    return dd.from_pandas(pd.DataFrame({"k": list(range(n)), "even": [i % 2 == 0 for i in range(n)]}), npartitions=2)


@dask_env.task
def dask_count_even(frame: dd.DataFrame) -> int:
    return int(frame["even"].sum().compute())


@spark_env.task
def spark_pi(samples: int) -> float:
    import random

    def inside(_: int) -> int:
        x, y = random.random(), random.random()
        return 1 if x * x + y * y <= 1 else 0

    spark = _data()["spark_session"]
    hits = spark.sparkContext.parallelize(range(samples), 2).map(inside).reduce(operator.add)
    return 4.0 * hits / samples


@spark_env.task
def spark_frame(n: int) -> SparkDataFrame:
    return _data()["spark_session"].range(n).withColumnRenamed("id", "k")


@spark_env.task
async def spark_total(frame: DataFrame) -> int:
    """Reads the dataset with the action's session (opened inside the body, where the session runs)."""
    spark_frame = await frame.open(SparkDataFrame).all()
    return int(spark_frame.groupBy().sum("k").collect()[0][0])


@ray_env.task
def ray_sum_of_squares(n: int) -> tuple[int, int]:
    """Ray remote functions in the action's own Ray: the total, and the CPUs that Ray was given
    (the config's 3, not the 2 a Ray auto-started by the first remote call would count)."""
    import ray

    @ray.remote
    def remote_square(x: int) -> int:
        return x * x

    return int(sum(ray.get([remote_square.remote(i) for i in range(n)]))), int(ray.cluster_resources()["CPU"])
