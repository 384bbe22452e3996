"""The README's main job, exactly as a newcomer runs it (the workspace's `flyte` command)."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_the_readme_main_job_runs_on_the_embedded_server(tmp_path, monkeypatch):
    # A machine with no configuration: the run starts the embedded server (in this test's own
    # home, on a free port), runs there, and leaves it running until `flyte stop server`.
    for var in ("FLYTE_ADMIN_ENDPOINT", "FLYTE_SERVER_DATA_DIR", "FLYTECTL_CONFIG"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setenv("FLYTE_SERVER_PORT", "0")
    flyte = Path(sys.executable).parent / "flyte"
    try:
        result = subprocess.run(
            [str(flyte), "run", "examples/hello.py", "main", "--n", "2"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=False,
            timeout=300,
        )
    finally:
        stopped = subprocess.run([str(flyte), "stop", "server"], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr
    assert "started the embedded Flyte server" in result.stderr
    assert "o0: ['hello world #0', 'hello world #1']" in result.stdout
    assert "succeeded" in result.stdout
    assert stopped.returncode == 0, stopped.stderr


def test_the_main_job_runs_in_process_with_local(tmp_path, monkeypatch):
    monkeypatch.setenv("FLYTE_LOCAL_RUNS_DIR", str(tmp_path / "runs"))
    flyte = Path(sys.executable).parent / "flyte"
    result = subprocess.run(
        [str(flyte), "run", "--local", "examples/hello.py", "main", "--n", "2"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "o0: ['hello world #0', 'hello world #1']" in result.stdout


def test_the_example_runs_as_a_plain_script(tmp_path, monkeypatch):
    monkeypatch.setenv("FLYTE_LOCAL_RUNS_DIR", str(tmp_path / "runs"))
    result = subprocess.run(
        [sys.executable, "examples/hello.py"], cwd=ROOT, capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr
    assert "hello python #2" in result.stdout
