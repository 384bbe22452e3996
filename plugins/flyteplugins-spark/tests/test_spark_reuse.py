"""One SparkSession across tasks: reused while idle, adapted for runtime properties, restarted for static ones."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import time
from typing import Any

import pytest

from flyte.extend import ctx
from flyte.runtime import TaskEnvironment, run
from flyteplugins.spark import Spark, local_spark

env = TaskEnvironment("spark-reuse", plugin_config=Spark(spark_conf={"spark.sql.shuffle.partitions": "3"}))


@env.task
def identity() -> tuple[int, str, str]:
    tctx = ctx()
    assert tctx is not None
    session: Any = tctx.data["spark_session"]
    return id(session), str(session.sparkContext.applicationId), str(session.conf.get("spark.sql.shuffle.partitions"))


def timed(task: Any) -> tuple[float, Any]:
    started = time.perf_counter()
    outputs = run(task).outputs()
    return time.perf_counter() - started, tuple(outputs)


@pytest.fixture(autouse=True)
def no_session_to_begin_with():
    local_spark.idle_timeout = 60
    assert local_spark.users == 0
    local_spark.shutdown()
    yield
    local_spark.idle_timeout = None


def test_the_next_task_reuses_the_idle_session():
    _, first = timed(identity)
    assert local_spark.running
    assert local_spark.users == 0  # idle, not stopped
    _, second = timed(identity)
    assert second == first  # the same session object, the same Spark application


def test_a_runtime_property_is_set_on_the_running_session():
    _, (session_id, app, partitions) = timed(identity)
    assert partitions == "3"
    other = identity.override(plugin_config=Spark(spark_conf={"spark.sql.shuffle.partitions": "7"}))
    _, (same_id, same_app, changed) = timed(other)
    assert (same_id, same_app, changed) == (session_id, app, "7")


def test_a_static_property_change_starts_a_new_session():
    _, (session_id, app, _) = timed(identity)
    other = identity.override(plugin_config=Spark(spark_conf={"spark.default.parallelism": "3"}))
    _, (new_id, new_app, _) = timed(other)
    assert new_app != app
    assert new_id != session_id
    assert local_spark.handle is not None
    assert local_spark.handle.session.sparkContext.getConf().get("spark.default.parallelism") == "3"


def test_with_no_idle_time_the_session_stops_after_the_task():
    local_spark.idle_timeout = 0
    run(identity)
    assert not local_spark.running


def test_in_a_fresh_process_the_reused_task_is_much_faster_and_exit_stops_the_session():
    # A fresh process: the first task pays the JVM launch and the session start, the second
    # neither; with a long idle timeout the process still exits promptly, its session stopped.
    script = textwrap.dedent(
        """
        import time
        from flyte.runtime import TaskEnvironment, run
        from flyteplugins.spark import Spark, local_spark

        env = TaskEnvironment("spark-exit", plugin_config=Spark())

        @env.task
        def app() -> str:
            from flyte.runtime import ctx
            return ctx().data["spark_session"].sparkContext.applicationId

        import atexit
        from pyspark import SparkContext

        # Registered before the engine's own exit hook, so it runs after it (atexit is LIFO).
        atexit.register(lambda: print("STOPPED", not local_spark.running, SparkContext._active_spark_context is None))
        local_spark.idle_timeout = 3600
        started = time.perf_counter()
        first = run(app).outputs()[0]
        first_s = time.perf_counter() - started
        started = time.perf_counter()
        second = run(app).outputs()[0]
        second_s = time.perf_counter() - started
        print("TIMES", first_s, second_s, first == second)
        """
    )
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=400, check=False)
    assert out.returncode == 0, out.stderr[-2000:]
    times = next(line.split() for line in out.stdout.splitlines() if line.startswith("TIMES"))
    first_s, second_s, same = float(times[1]), float(times[2]), times[3]
    assert same == "True"
    assert second_s < first_s / 2, (first_s, second_s)
    assert "STOPPED True True" in out.stdout
