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

    environment = {**os.environ, "FLYTE_SERVER_DATA_DIR": str(tmp_path / "server")}
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
