"""Spark on Flyte 2: a parallelized Monte Carlo estimate of pi on a real local SparkSession.

    uv run python examples/spark_example.py              # from the workspace root
    flyte run --local examples/spark_example.py main --samples 2000000

Locally the task's body finds a SparkSession (master local[2], bound to 127.0.0.1) in
``flyte.ctx().data["spark_session"]``; deployed, the same task is a SparkJob on the cluster.
Needs Java 17 (``java -version``).
"""

import random

import flyte
from flyteplugins.spark import Spark

env = flyte.TaskEnvironment(
    name="spark_pi",
    plugin_config=Spark(spark_conf={"spark.sql.shuffle.partitions": "4", "spark.executor.instances": "2"}),
)


def hit(_: int) -> int:
    x, y = random.random(), random.random()
    return 1 if x * x + y * y <= 1 else 0


@env.task
def main(samples: int = 1_000_000, partitions: int = 4) -> float:
    """Throw `samples` darts at the unit square across `partitions` Spark partitions."""
    spark = flyte.ctx().data["spark_session"]
    hits = spark.sparkContext.parallelize(range(samples), partitions).map(hit).reduce(lambda a, b: a + b)
    return 4.0 * hits / samples


if __name__ == "__main__":
    flyte.init()
    print(f"pi is roughly {flyte.run(main, samples=200_000).outputs()[0]:.4f}")
