import pytest

from flyteplugins.spark import Spark, local_spark

# The session the tests that ask for `spark_session` hold for the rest of their module. Other
# tests start the engine like any task would; between tasks it stays up idle (the default idle
# timeout), so the JVM starts once per test session and sessions restart only for static changes.
SESSION_CONFIG = Spark(
    spark_conf={"spark.sql.shuffle.partitions": "3"},
    hadoop_conf={"fs.s3a.path.style.access": "true"},
)


@pytest.fixture(scope="module")
def spark_session():
    with local_spark.hold(SESSION_CONFIG) as run:
        yield run.session


@pytest.fixture(autouse=True)
def local_dirs(tmp_path, monkeypatch):
    """Each test gets its own run records folder, cache database and raw data path."""
    monkeypatch.setenv("FLYTE_LOCAL_RUNS_DIR", str(tmp_path / "runs"))
    monkeypatch.setenv("FLYTE_LOCAL_CACHE", str(tmp_path / "cache.sqlite"))
    return tmp_path
