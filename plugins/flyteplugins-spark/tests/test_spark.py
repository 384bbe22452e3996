"""Spark tasks on a real local SparkSession (pyspark, Java 17)."""

from __future__ import annotations

import random
import subprocess
import sys
import textwrap
from collections.abc import Callable
from typing import Any, ClassVar

import pytest
from flyteidl2.plugins.spark_pb2 import SparkApplication, SparkJob
from google.protobuf import json_format

from flyte.extend import PodTemplate, SerializationContext, ctx
from flyte.extend.testing import PluginConformance
from flyte.runtime import TaskEnvironment, run
from flyteplugins.spark import PysparkFunctionTask, Spark, local_spark

SCTX = SerializationContext(version="v1", interpreter_path="/opt/venv/bin/python")

env = TaskEnvironment("spark-tests", plugin_config=Spark(spark_conf={"spark.sql.shuffle.partitions": "3"}))


def session() -> Any:
    tctx = ctx()
    assert tctx is not None
    return tctx.data["spark_session"]


def count_rows(n: int) -> int:
    return int(session().sparkContext.parallelize(range(n), 2).count())


@env.task
def estimate_pi(samples: int, partitions: int) -> float:
    def inside(_: int) -> int:
        x, y = random.random(), random.random()
        return 1 if x * x + y * y <= 1 else 0

    hits = session().sparkContext.parallelize(range(samples), partitions).map(inside).reduce(lambda a, b: a + b)
    return 4.0 * hits / samples


@env.task
def words_by_length(words: list[str]) -> dict[int, int]:
    frame = session().createDataFrame([(w, len(w)) for w in words], ["word", "length"])
    return {row["length"]: row["count"] for row in frame.groupBy("length").count().collect()}


class TestSparkConformance(PluginConformance):
    task_type = "spark"
    custom_message = SparkJob
    task_inputs: ClassVar[dict[str, Any]] = {"n": 1000}
    expected_output = 1000
    context_keys = frozenset({"spark_session"})

    def plugin_config(self) -> Spark:
        return Spark(spark_conf={"spark.executor.instances": "2"}, executor_path="/usr/bin/python3")

    def expected_custom(self, sctx: SerializationContext) -> dict[str, Any]:
        return {
            "mainApplicationFile": "local://" + sctx.get_entrypoint_path(),
            "sparkConf": {"spark.executor.instances": "2"},
            "executorPath": "/usr/bin/python3",
        }

    def task_body(self) -> Callable[..., Any]:
        return count_rows


def test_a_parallel_monte_carlo_estimates_pi():
    estimate = run(estimate_pi, samples=200_000, partitions=4).outputs()[0]
    assert abs(estimate - 3.14159) < 0.03


def test_spark_sql_runs_in_the_session():
    counts = run(words_by_length, words=["a", "bb", "cc", "ddd"]).outputs()[0]
    assert counts == {1: 1, 2: 2, 3: 1}


def test_the_session_is_local_on_loopback_with_the_configured_properties(spark_session):
    conf = spark_session.sparkContext.getConf()
    assert spark_session.sparkContext.master == "local[2]"
    assert conf.get("spark.driver.host") == "127.0.0.1"
    assert conf.get("spark.ui.enabled") == "false"
    assert conf.get("spark.sql.shuffle.partitions") == "3"
    assert conf.get("spark.hadoop.fs.s3a.path.style.access") == "true"


def test_the_custom_config_is_a_spark_job_with_the_configured_values():
    driver = PodTemplate(pod_spec={"containers": [{"name": "primary"}], "nodeSelector": {"pool": "spark"}})
    task = env.task(count_rows).override(
        plugin_config=Spark(
            spark_conf={"spark.driver.memory": "2g"},
            hadoop_conf={"fs.s3a.endpoint": "http://minio:9000"},
            applications_path="local:///app/main.py",
            driver_pod=driver,
        )
    )
    assert isinstance(task, PysparkFunctionTask)
    job = json_format.ParseDict(task.custom_config(SCTX), SparkJob())
    assert job.applicationType == SparkApplication.PYTHON
    assert job.mainApplicationFile == "local:///app/main.py"
    assert job.executorPath == "/opt/venv/bin/python"
    assert dict(job.sparkConf) == {"spark.driver.memory": "2g"}
    assert dict(job.hadoopConf) == {"fs.s3a.endpoint": "http://minio:9000"}
    assert json_format.MessageToDict(job.driverPod.pod_spec)["nodeSelector"] == {"pool": "spark"}
    assert not job.HasField("executorPod")


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"spark_conf": {"executor.memory": "2g"}}, ValueError, "not a Spark property"),
        ({"spark_conf": {"spark.executor.instances": 2}}, TypeError, "write '2'"),
        ({"hadoop_conf": ["fs.s3a.endpoint"]}, TypeError, "hadoop_conf must be a dict"),
        ({"driver_pod": {"containers": []}}, TypeError, "driver_pod must be a flyte.PodTemplate"),
        ({"executor_path": 3}, TypeError, "executor_path must be a string"),
    ],
)
def test_a_bad_config_is_refused_when_it_is_made(kwargs, error, message):
    with pytest.raises(error, match=message):
        Spark(**kwargs)


def test_a_spark_that_cannot_start_is_a_system_error_naming_spark():
    # A fresh process: in this one the JVM is already running. No Java where Spark looks for it.
    script = textwrap.dedent(
        """
        from flyte.extend import RuntimeSystemError
        from flyteplugins.spark import Spark, local_spark
        try:
            local_spark.acquire(Spark())
        except RuntimeSystemError as e:
            print(e.code, e.engine, local_spark.users)
        """
    )
    env_vars = {"JAVA_HOME": "/nonexistent/java", "PATH": "/usr/bin:/bin", "SPARK_LOCAL_IP": "127.0.0.1"}
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env_vars, timeout=120)
    assert out.stdout.split() == ["EngineStartFailed", "spark", "0"], out.stderr[-2000:]


def test_tasks_join_the_held_session_instead_of_starting_one(spark_session):
    before = local_spark.users
    assert run(env.task(count_rows), n=10).outputs()[0] == 10
    assert local_spark.users == before
    assert spark_session.range(3).count() == 3  # still running: the hold keeps it
