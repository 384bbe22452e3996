"""The local Spark engine: one ``SparkSession`` per process, started by the first Spark task."""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from flyte.extend import LocalEngine
from flyteplugins.spark._config import Spark

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

logger = logging.getLogger("flyteplugins.spark")

APP_NAME = "FlyteSpark"
LOCAL_MASTER = "local[2]"
# A laptop or CI runner: no web UI to bind, loopback only, no progress bars in the task's output.
_LOCAL_DEFAULTS = {
    "spark.ui.enabled": "false",
    "spark.ui.showConsoleProgress": "false",
    "spark.driver.host": "127.0.0.1",
    "spark.driver.bindAddress": "127.0.0.1",
}


@dataclass
class SparkRun:
    """A session the engine hands to tasks, and whether it is the engine's to stop."""

    session: SparkSession
    owned: bool


class LocalSpark(LocalEngine[Spark, SparkRun]):
    """A ``SparkSession`` on ``local[2]``, bound to 127.0.0.1, with the task's ``spark_conf`` applied.

    The first start launches the JVM (seconds); later starts in the same process reuse that JVM and
    take a fraction of a second. A session that already exists (made by the user, or by
    ``spark-submit`` when Spark launched this process) is used as it is and left running.

    Between tasks the session stays up (``LocalEngine.idle_timeout``). The next task reuses it when
    the session already has every static property the task asks for (master, ``spark.executor.*``,
    ``hadoop_conf``, ...); properties Spark can change on a running session (``spark.sql.*`` ones)
    are set on it for that task. Otherwise the idle session is stopped and a new one started.
    """

    name = "spark"

    def start(self, config: Spark) -> SparkRun:
        # Before the JVM starts: it reads this to pick the address it binds.
        os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
        from pyspark.sql import SparkSession

        existing = SparkSession.getActiveSession()
        if existing is not None:
            return SparkRun(existing, owned=False)
        builder: Any = SparkSession.builder.appName(APP_NAME)
        if "PYSPARK_GATEWAY_PORT" not in os.environ:  # not launched by spark-submit: a local session
            builder = builder.master(_local_master(config))
            for key, value in _LOCAL_DEFAULTS.items():
                builder = builder.config(key, value)
        for key, value in (config.spark_conf or {}).items():
            if key != "spark.master":
                builder = builder.config(key, value)
        for key, value in (config.hadoop_conf or {}).items():
            builder = builder.config(f"spark.hadoop.{key}", value)
        session: SparkSession = builder.getOrCreate()
        return SparkRun(session, owned=True)

    def stop(self, handle: SparkRun) -> None:
        if handle.owned:
            handle.session.stop()

    def serves(self, handle: SparkRun, running: Spark, wanted: Spark) -> bool:
        if not handle.owned:  # not ours to restart: every task uses it as it is
            return True
        session = handle.session
        conf = session.sparkContext.getConf()
        if "PYSPARK_GATEWAY_PORT" not in os.environ and session.sparkContext.master != _local_master(wanted):
            return False
        for key, value in (wanted.spark_conf or {}).items():
            if key == "spark.master" or session.conf.isModifiable(key):
                continue
            if conf.get(key) != value:
                return False
        return all(conf.get(f"spark.hadoop.{key}") == value for key, value in (wanted.hadoop_conf or {}).items())

    def attach(self, handle: SparkRun, config: Spark) -> None:
        if not handle.owned:
            return
        session = handle.session
        for key, value in (config.spark_conf or {}).items():
            if key != "spark.master" and session.conf.isModifiable(key):
                session.conf.set(key, value)

    def context_data(self, handle: SparkRun) -> dict[str, Any]:
        return {"spark_session": handle.session}


def _local_master(config: Spark) -> str:
    master = (config.spark_conf or {}).get("spark.master")
    if master is None or master.startswith("local"):
        return master or LOCAL_MASTER
    logger.info("spark.master %r is for a cluster; running locally on %s", master, LOCAL_MASTER)
    return LOCAL_MASTER


local_spark = LocalSpark()
