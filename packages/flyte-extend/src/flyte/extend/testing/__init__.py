"""The conformance kit: the tests every plugin must pass, to subclass in the plugin's own tests.

Example:
    >>> class TestSparkConformance(PluginConformance):  # doctest: +SKIP
    ...     task_type = "spark"
    ...     custom_message = SparkJob
    ...     task_inputs = {"n": 1000}
    ...     def plugin_config(self): return Spark(spark_conf={"spark.sql.shuffle.partitions": "2"})
    ...     def expected_custom(self, sctx): return {...}
    ...     def task_body(self): return count_with_spark
    ...     def check_output(self, output): assert output == 1000
"""

from flyte.extend.testing._conformance import PluginConformance
from flyte.extend.testing._spec import task_spec

__all__ = ["PluginConformance", "task_spec"]
