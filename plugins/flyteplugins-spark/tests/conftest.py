import pytest

from flyteplugins.spark import Spark, local_spark

# Every test's Spark tasks share this session: the JVM starts once per test session (seconds),
# and each task then joins the running session instead of stopping and restarting it.
SESSION_CONFIG = Spark(
    spark_conf={"spark.sql.shuffle.partitions": "3"},
    hadoop_conf={"fs.s3a.path.style.access": "true"},
)


@pytest.fixture(scope="session")
def spark_session():
    with local_spark.hold(SESSION_CONFIG) as run:
        yield run.session


@pytest.fixture(autouse=True)
def local_dirs(tmp_path, monkeypatch, spark_session):
    """Each test gets its own run records folder and cache database."""
    monkeypatch.setenv("FLYTE_LOCAL_RUNS_DIR", str(tmp_path / "runs"))
    monkeypatch.setenv("FLYTE_LOCAL_CACHE", str(tmp_path / "cache.sqlite"))
    return tmp_path
