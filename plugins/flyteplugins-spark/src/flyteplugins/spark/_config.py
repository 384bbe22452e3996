"""``Spark``: how a task's Spark application is configured."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from flyte.extend import PodTemplate


@dataclass
class Spark:
    """Run the task as a Spark application: a real local ``SparkSession`` locally, a SparkJob on a cluster.

    Inside the task the session is ``flyte.ctx().data["spark_session"]``.

    Args:
        spark_conf: Spark properties (``"spark.executor.memory": "2g"``); every key starts with
            ``spark.`` (Spark ignores any other key, so one is a mistake) and every value is a string.
        hadoop_conf: Hadoop properties (``"fs.s3a.endpoint": ...``); locally they become
            ``spark.hadoop.<key>``.
        executor_path: the Python binary executors run; defaults to the image's interpreter.
        applications_path: the main application file; defaults to the SDK's entrypoint in the image.
        driver_pod: a pod template for the driver.
        executor_pod: a pod template for the executors.

    Example:
        >>> Spark(spark_conf={"spark.sql.shuffle.partitions": "4"}).spark_conf
        {'spark.sql.shuffle.partitions': '4'}
    """

    spark_conf: dict[str, str] | None = None
    hadoop_conf: dict[str, str] | None = None
    executor_path: str | None = None
    applications_path: str | None = None
    driver_pod: PodTemplate | None = None
    executor_pod: PodTemplate | None = None

    def __post_init__(self) -> None:
        self.spark_conf = _string_map(self.spark_conf, "spark_conf")
        self.hadoop_conf = _string_map(self.hadoop_conf, "hadoop_conf")
        for key in self.spark_conf:
            if not key.startswith("spark."):
                raise ValueError(
                    f"Spark.spark_conf key {key!r} is not a Spark property (they start with 'spark.'): "
                    "Spark would ignore it. Hadoop settings go in hadoop_conf."
                )
        for name in ("executor_path", "applications_path"):
            value = getattr(self, name)
            if value is not None and not isinstance(value, str):
                raise TypeError(f"Spark.{name} must be a string, got {type(value).__name__} {value!r}")
        for name in ("driver_pod", "executor_pod"):
            value = getattr(self, name)
            if value is not None and not isinstance(value, PodTemplate):
                raise TypeError(f"Spark.{name} must be a flyte.PodTemplate, got {type(value).__name__}")


def _string_map(value: Mapping[str, Any] | None, field: str) -> dict[str, str]:
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise TypeError(f"Spark.{field} must be a dict of strings, got {type(value).__name__}")
    for key, item in value.items():
        if not isinstance(key, str) or not isinstance(item, str):
            raise TypeError(
                f"Spark.{field}[{key!r}] must map a string to a string, got {type(item).__name__} {item!r}; "
                "Spark properties are strings (write '2', 'true')"
            )
    return dict(value)
