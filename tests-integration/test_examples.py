"""The README's main job, exactly as a newcomer runs it (the workspace's `flyte` command)."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_the_readme_main_job_runs(tmp_path, monkeypatch):
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
