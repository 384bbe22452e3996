import pytest


@pytest.fixture(autouse=True)
def local_dirs(tmp_path, monkeypatch):
    """Each test gets its own run records folder and cache database."""
    monkeypatch.setenv("FLYTE_LOCAL_RUNS_DIR", str(tmp_path / "runs"))
    monkeypatch.setenv("FLYTE_LOCAL_CACHE", str(tmp_path / "cache.sqlite"))
    return tmp_path
