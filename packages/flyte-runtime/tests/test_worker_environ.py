"""The warm worker's child takes exactly the attempt's environment (only what differs is touched)."""

import os

from flyte.runtime._worker import _set_environ


def test_the_environment_becomes_exactly_the_attempts(monkeypatch):
    saved = dict(os.environ)
    monkeypatch.setenv("FLYTE_TEST_WORKER_ONLY", "worker")  # the worker has it, the attempt does not
    monkeypatch.setenv("FLYTE_TEST_CHANGED", "old")
    wanted = {k: v for k, v in saved.items() if not k.startswith("FLYTE_TEST_")}
    wanted.update({"FLYTE_TEST_CHANGED": "new", "FLYTE_TEST_ADDED": "added"})
    try:
        _set_environ(wanted)
        assert dict(os.environ) == wanted
        assert "FLYTE_TEST_WORKER_ONLY" not in os.environ
        assert os.getenv("FLYTE_TEST_CHANGED") == "new"
    finally:
        os.environ.clear()
        os.environ.update(saved)
