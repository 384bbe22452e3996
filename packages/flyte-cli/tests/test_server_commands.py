"""`flyte start server` / `get server` / `stop server` against the real embedded server process."""

import json
import socket
import subprocess
import sys

import pytest


def flyte(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    code = "import sys; from flyte.cli._main import main; main(sys.argv[1:])"
    return subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, check=False, env=env)


@pytest.fixture
def env(tmp_path):
    import os

    # Beside tmp_path, not in it: a run bundles its task file's folder, which must not hold the server's data.
    environment = {**os.environ, "FLYTE_SERVER_DATA_DIR": str(tmp_path.with_name(tmp_path.name + "-state") / "server")}
    yield environment
    flyte("stop", "server", env=environment)  # never leave a server behind


def status(env: dict[str, str]) -> dict[str, object]:
    return json.loads(flyte("-of", "json", "get", "server", env=env).stdout)[0]


def test_start_get_stop_cycle(env):
    assert status(env)["status"] == "stopped"
    started = flyte("start", "server", "--port", "0", env=env)
    assert started.returncode == 0, started.stderr
    assert "Flyte server running at http://127.0.0.1:" in started.stdout
    info = status(env)
    assert info["status"] == "running"
    host, port = str(info["url"]).removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=5):
        pass  # it really listens
    again = flyte("start", "server", "--port", "0", env=env)
    assert "already running" in again.stdout
    stopped = flyte("stop", "server", env=env)
    assert stopped.returncode == 0
    assert f"pid {info['pid']}" in stopped.stdout
    assert status(env)["status"] == "stopped"


def test_stop_without_a_server_says_so(env):
    result = flyte("stop", "server", env=env)
    assert result.returncode == 0
    assert "No Flyte server is running" in result.stdout


def test_a_port_in_use_fails_with_the_servers_own_words(env):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = flyte("start", "server", "--port", str(port), env=env)
    assert result.returncode == 1
    assert "exited with status" in result.stderr
    assert status(env)["status"] == "stopped"


def test_run_without_local_runs_on_the_started_server(env, tmp_path):
    (tmp_path / "remote_hello.py").write_text(
        "import asyncio\n"
        "from flyte.runtime import TaskEnvironment\n"
        "env = TaskEnvironment('remote_hello')\n"
        "@env.task\n"
        "async def square(x: int) -> int:\n"
        "    return x * x\n"
        "@env.task\n"
        "async def main(n: int = 3) -> list[int]:\n"
        "    return list(await asyncio.gather(*(square(i) for i in range(n))))\n"
    )
    assert flyte("start", "server", "--port", "0", env=env).returncode == 0
    endpoint = str(status(env)["url"]).removeprefix("http://")
    result = flyte("--endpoint", endpoint, "--insecure", "run", str(tmp_path / "remote_hello.py"), "main", env=env)
    assert result.returncode == 0, result.stderr
    assert f"submitted to {endpoint}" in result.stdout
    assert "succeeded" in result.stdout
    assert "o0: [0, 1, 4]" in result.stdout
