"""The remote verbs through the real console entry point, against a real embedded server.

One server serves the module (started with `flyte start server` on a free port, its own data
folder, always stopped); tasks run as real `a0` processes. Zero-config gets its own server.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

TASKS = textwrap.dedent(
    """
    import asyncio

    from flyte.runtime import TaskEnvironment

    env = TaskEnvironment("clirem")

    @env.task
    async def square(x: int) -> int:
        print(f"squaring {x}", flush=True)
        return x * x

    @env.task
    async def main(n: int = 3) -> list[int]:
        print(f"main got {n}", flush=True)
        return list(await asyncio.gather(*(square(i) for i in range(n))))

    @env.task
    async def slow(seconds: float = 120.0) -> str:
        print("slow started", flush=True)
        await asyncio.sleep(seconds)
        return "done"

    @env.task
    async def fails(x: int) -> int:
        raise ValueError(f"cannot take {x}")
    """
)

RUN_KEYS = ["name", "project", "domain", "task", "phase", "attempts", "start_time", "end_time", "duration_s"]
ACTION_KEYS = ["run", "name", "parent", "task", "phase", "attempts", "start_time", "end_time", "duration_s"]


def flyte(*args: str, env: dict[str, str], timeout: float = 240) -> subprocess.CompletedProcess[str]:
    code = "import sys; from flyte.cli._main import main; main(sys.argv[1:])"
    return subprocess.run(
        [sys.executable, "-c", code, *args], capture_output=True, text=True, check=False, env=env, timeout=timeout
    )


def clean_env(root: Path) -> dict[str, str]:
    """No config file, no FLYTE_* backend: only the server of ``root`` can be found.

    Its data folder and HOME sit beside ``root``, not in it: ``root`` holds task files, and a
    run bundles the folder of its task file (a live server's data must not be in the bundle).
    """
    state = root.with_name(root.name + "-state")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("FLYTE_", "FLYTECTL_"))}
    env.update(
        FLYTE_SERVER_DATA_DIR=str(state / "server"),
        FLYTE_SERVER_PORT="0",
        HOME=str(state / "home"),
        FLYTE_SERVER_LOG_LEVEL="WARNING",
    )
    return env


@dataclass
class Backend:
    env: dict[str, str]
    tasks: Path
    endpoint: str

    def flyte(self, *args: str, timeout: float = 240) -> subprocess.CompletedProcess[str]:
        return flyte("--endpoint", self.endpoint, "--insecure", *args, env=self.env, timeout=timeout)

    def json(self, *args: str) -> list[dict[str, object]]:
        result = self.flyte("-of", "json", *args)
        assert result.returncode == 0, result.stderr
        data: list[dict[str, object]] = json.loads(result.stdout)
        return data


def serve(root: Path, tasks_file: str, source: str) -> Iterator[Backend]:
    """A fixture's body: an embedded server started by `flyte start server` in a clean home
    under ``root``, with ``source`` written to ``root/tasks_file``; stopped afterwards."""
    env = clean_env(root)
    tasks = root / tasks_file
    tasks.write_text(source)
    started = flyte("start", "server", "--port", "0", env=env)
    assert started.returncode == 0, started.stderr
    info = json.loads(flyte("-of", "json", "get", "server", env=env).stdout)[0]
    try:
        yield Backend(env, tasks, str(info["url"]).removeprefix("http://"))
    finally:
        flyte("stop", "server", env=env)


@pytest.fixture(scope="module")
def backend(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Backend]:
    yield from serve(tmp_path_factory.mktemp("remote"), "clirem.py", TASKS)


@pytest.fixture(scope="module")
def finished_run(backend: Backend) -> str:
    """A run of ``main --n 3`` that succeeded; its name."""
    result = backend.flyte("run", str(backend.tasks), "main", "--n", "3")
    assert result.returncode == 0, result.stderr
    return result.stdout.split()[1]  # "Run <name> submitted to ..."


def wait_for_phase(backend: Backend, run: str, phase: str, timeout: float = 60) -> dict[str, object]:
    deadline = time.monotonic() + timeout
    while True:
        (row,) = backend.json("get", "run", run)
        if row["phase"] == phase or time.monotonic() > deadline:
            return row
        time.sleep(0.3)


# --- run -----------------------------------------------------------------------------------


def test_a_remote_run_reports_each_action_then_its_outputs(backend):
    result = backend.flyte("run", str(backend.tasks), "main", "--n", "2")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    name = lines[0].split()[1]
    assert lines[0].startswith(f"Run {name} submitted to {backend.endpoint}: http://{backend.endpoint}/v2/runs/")
    # Without a terminal: one plain line per action and phase change seen. The view polls, so a
    # phase shorter than a poll may not show (a warm server runs this in ~0.1 s): the run's own
    # phases come in order, its children's ends before its own, and it ends SUCCEEDED.
    order = ["QUEUED", "INITIALIZING", "RUNNING", "SUCCEEDED"]
    main = [line.split()[3] for line in lines if line.startswith(f"[{name}] a0 clirem.main ")]
    assert main[-1] == "SUCCEEDED"
    assert [order.index(p) for p in main] == sorted(order.index(p) for p in main)
    squares = [i for i, line in enumerate(lines) if line.startswith(f"[{name}] ") and "clirem.square SUCCEEDED" in line]
    assert len(squares) == 2
    assert max(squares) < lines.index(
        next(line for line in lines if line.startswith(f"[{name}] a0 clirem.main SUCCEEDED"))
    )
    assert lines[-2:] == [f"Run {name} succeeded", "o0: [0, 1]"]


def test_follow_streams_the_logs_of_the_run(backend):
    result = backend.flyte("run", "--follow", str(backend.tasks), "main", "--n", "1")
    assert result.returncode == 0, result.stderr
    assert "main got 1" in result.stdout


def test_a_failing_remote_run_exits_1_with_the_tasks_error(backend):
    result = backend.flyte("run", str(backend.tasks), "fails", "--x", "7")
    assert result.returncode == 1
    assert "cannot take 7" in result.stderr
    assert "Traceback" not in result.stderr
    assert "FAILED" in result.stdout


def test_no_wait_submits_and_returns(backend):
    result = backend.flyte("run", "--no-wait", str(backend.tasks), "slow", "--seconds", "0.1")
    assert result.returncode == 0, result.stderr
    assert len(result.stdout.splitlines()) == 1
    assert "submitted to" in result.stdout


# --- get -----------------------------------------------------------------------------------


def test_get_run_gives_stable_json_for_the_list_and_for_one(backend, finished_run):
    listed = backend.json("get", "run")
    assert all(list(row) == RUN_KEYS for row in listed)
    assert finished_run in [row["name"] for row in listed]
    (one,) = backend.json("get", "run", finished_run)
    assert list(one) == [*RUN_KEYS, "error"]
    assert one["phase"] == "SUCCEEDED"
    assert one["task"] == "clirem.main"
    assert one["error"] is None
    assert isinstance(one["duration_s"], float)


def test_get_run_as_a_table(backend, finished_run):
    result = backend.flyte("get", "run", finished_run)
    assert result.returncode == 0, result.stderr
    header, row = result.stdout.splitlines()
    assert header.split()[:5] == ["NAME", "PROJECT", "DOMAIN", "TASK", "PHASE"]
    assert row.split()[0] == finished_run
    assert "SUCCEEDED" in row.split()


def test_get_action_lists_the_root_and_its_children(backend, finished_run):
    actions = backend.json("get", "action", finished_run)
    assert all(list(row) == ACTION_KEYS for row in actions)
    roots = [a for a in actions if a["parent"] is None]
    assert [r["name"] for r in roots] == ["a0"]
    children = [a for a in actions if a["parent"] == "a0"]
    assert len(children) == 3
    assert {c["task"] for c in children} == {"clirem.square"}
    assert {c["phase"] for c in children} == {"SUCCEEDED"}
    (child,) = backend.json("get", "action", finished_run, str(children[0]["name"]))
    assert child["name"] == children[0]["name"]


def test_get_io_decodes_inputs_and_outputs(backend, finished_run):
    assert backend.json("get", "io", finished_run) == [{"inputs": {"n": 3}, "outputs": {"o0": [0, 1, 4]}}]
    assert backend.json("get", "io", "--outputs-only", finished_run) == [{"outputs": {"o0": [0, 1, 4]}}]


def test_get_logs_prints_what_the_task_wrote(backend, finished_run):
    result = backend.flyte("get", "logs", finished_run)
    assert result.returncode == 0, result.stderr
    assert "main got 3" in result.stdout


def test_get_task_lists_what_runs_deployed(backend, finished_run):
    tasks = backend.json("get", "task")
    assert "clirem.main" in {t["name"] for t in tasks}  # a run registers its root task
    assert all(list(t) == ["name", "version", "short_name", "environment", "deployed_at"] for t in tasks)


def test_an_unknown_run_is_one_error_line(backend):
    result = backend.flyte("get", "run", "no-such-run")
    assert result.returncode == 1
    assert "no-such-run" in result.stderr
    assert "Traceback" not in result.stderr


# --- deploy, deployed tasks, rerun, abort ---------------------------------------------------


def test_deploy_then_run_the_deployed_task_by_name_and_version(backend):
    deployed = backend.json("deploy", "--version", "v7", str(backend.tasks), "clirem")
    assert {(d["task"], d["version"]) for d in deployed} >= {("clirem.main", "v7"), ("clirem.square", "v7")}
    (task,) = backend.json("get", "task", "clirem.main", "v7")
    assert task["environment"] == "clirem"
    help_text = backend.flyte("run", "deployed-task", "clirem.main:v7", "--help").stdout
    assert "--n INTEGER" in help_text
    result = backend.flyte("run", "deployed-task", "clirem.main:v7", "--n", "2")
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[-1] == "o0: [0, 1]"


def test_deploy_dry_run_registers_nothing(backend):
    result = backend.flyte("deploy", "--dry-run", "--version", "dry1", str(backend.tasks), "clirem")
    assert result.returncode == 0, result.stderr
    assert "Dry run: 4 task(s) of 1 environment(s) would be deployed" in result.stdout
    assert "dry1" not in {t["version"] for t in backend.json("get", "task")}


def test_deploy_needs_environment_names_or_all(backend):
    result = backend.flyte("deploy", str(backend.tasks))
    assert result.returncode == 2
    assert "pass --all" in result.stderr
    assert "clirem" in result.stderr
    unknown = backend.flyte("deploy", str(backend.tasks), "nope")
    assert unknown.returncode == 2
    assert "no environment 'nope'" in unknown.stderr


def test_deploy_recursive_imports_packages_under_a_folder(backend, tmp_path):
    pkg = tmp_path / "src" / "team"
    pkg.mkdir(parents=True)
    (pkg / "__init__.py").write_text("")
    (pkg / "flows.py").write_text(
        "from flyte.runtime import TaskEnvironment\nrec = TaskEnvironment('recursive_env')\n"
        "@rec.task\nasync def ping() -> str:\n    return 'pong'\n"
    )
    (tmp_path / "src" / ".venv").mkdir()
    (tmp_path / "src" / ".venv" / "junk.py").write_text("raise SystemExit('a recursive deploy must skip .venv')\n")
    deployed = backend.json("deploy", "-r", "--version", "r1", str(tmp_path / "src"))
    assert [(d["environment"], d["task"], d["version"]) for d in deployed] == [
        ("recursive_env", "recursive_env.ping", "r1")
    ]
    result = backend.flyte("run", "deployed-task", "recursive_env.ping")
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[-1] == "o0: 'pong'"


def test_rerun_runs_the_same_task_with_the_same_inputs(backend, finished_run):
    result = backend.flyte("rerun", finished_run)
    assert result.returncode == 0, result.stderr
    assert f"(again of {finished_run})" in result.stdout
    assert result.stdout.splitlines()[-1] == "o0: [0, 1, 4]"
    new_name = result.stdout.split()[1]
    assert new_name != finished_run


def test_abort_run_stops_a_running_run(backend):
    submitted = backend.flyte("run", "--no-wait", str(backend.tasks), "slow")
    name = submitted.stdout.split()[1]
    wait_for_phase(backend, name, "RUNNING")
    result = backend.flyte("abort", "run", name, "--reason", "test says stop")
    assert result.returncode == 0, result.stderr
    assert f"Aborted run {name}" in result.stdout
    row = wait_for_phase(backend, name, "ABORTED")
    assert row["phase"] == "ABORTED"
    again = backend.flyte("abort", "run", name)
    assert "nothing to abort" in again.stdout


# --- secrets and projects ------------------------------------------------------------------


def test_secret_create_get_delete_never_shows_the_value(backend):
    created = backend.flyte("create", "secret", "cli_token", "--value", "hunter2-value")
    assert created.returncode == 0, created.stderr
    listed = backend.flyte("get", "secret")
    assert "cli_token" in listed.stdout
    assert "hunter2-value" not in listed.stdout
    (one,) = backend.json("get", "secret", "cli_token")
    assert list(one) == ["name", "type", "project", "domain", "created_at"]
    assert one["name"] == "cli_token"
    assert "hunter2-value" not in json.dumps(one)
    assert backend.flyte("delete", "secret", "cli_token").returncode == 0
    gone = backend.flyte("get", "secret", "cli_token")
    assert gone.returncode == 1
    assert "cli_token" in gone.stderr


def test_secret_value_from_a_file(backend, tmp_path):
    value = tmp_path / "value.txt"
    value.write_text("from-a-file")
    result = backend.flyte("create", "secret", "file_secret", "--from-file", str(value))
    assert result.returncode == 0, result.stderr
    both = backend.flyte("create", "secret", "x", "--value", "a", "--from-file", str(value))
    assert both.returncode == 2


def test_create_project_then_get_it(backend):
    result = backend.flyte("create", "project", "cliproj", "--description", "made by a test", "--label", "team=cli")
    assert result.returncode == 0, result.stderr
    (project,) = backend.json("get", "project", "cliproj")
    assert project == {
        "id": "cliproj",
        "name": "cliproj",
        "description": "made by a test",
        "labels": {"team": "cli"},
        "state": "active",
    }
    assert "cliproj" in [p["id"] for p in backend.json("get", "project")]


# --- errors without a backend ---------------------------------------------------------------


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.mark.parametrize("command", [["get", "run"], ["run", "TASKS", "main"]])
def test_an_unreachable_endpoint_is_named_with_a_way_out(tmp_path, command):
    env = clean_env(tmp_path)
    tasks = tmp_path / "clirem.py"
    tasks.write_text(TASKS)
    endpoint = f"127.0.0.1:{_closed_port()}"
    args = [str(tasks) if a == "TASKS" else a for a in command]
    result = flyte("--endpoint", endpoint, "--insecure", *args, env=env, timeout=120)
    assert result.returncode == 1
    assert endpoint in result.stderr
    assert "flyte start server" in result.stderr
    assert "Traceback" not in result.stderr


def test_get_without_any_backend_says_how_to_get_one(tmp_path):
    result = flyte("get", "run", env=clean_env(tmp_path))
    assert result.returncode == 2
    assert "flyte start server" in result.stderr
    assert "--endpoint" in result.stderr


# --- zero-config ---------------------------------------------------------------------------


def test_zero_config_run_starts_the_embedded_server_and_says_how_to_stop_it(tmp_path):
    env = clean_env(tmp_path)
    tasks = tmp_path / "clirem.py"
    tasks.write_text(TASKS)
    try:
        first = flyte("run", str(tasks), "main", "--n", "2", env=env)
        assert first.returncode == 0, first.stderr
        assert "No backend configured: started the embedded Flyte server at http://127.0.0.1:" in first.stderr
        assert "Stop it with `flyte stop server`" in first.stderr
        assert first.stdout.splitlines()[-1] == "o0: [0, 1]"
        (server,) = json.loads(flyte("-of", "json", "get", "server", env=env).stdout)
        assert server["status"] == "running"
        assert f"submitted to {server['url']}" in first.stdout
        second = flyte("run", "--no-wait", str(tasks), "main", env=env)
        assert f"Using the embedded Flyte server at {server['url']}" in second.stderr
        # `get` finds the same server without being told.
        runs = json.loads(flyte("-of", "json", "get", "run", env=env).stdout)
        assert first.stdout.split()[1] in [r["name"] for r in runs]
    finally:
        stopped = flyte("stop", "server", env=env)
    assert "Stopped the Flyte server" in stopped.stdout


def test_abort_action_stops_a_running_action(backend):
    submitted = backend.flyte("run", "--no-wait", str(backend.tasks), "slow")
    name = submitted.stdout.split()[1]
    wait_for_phase(backend, name, "RUNNING")
    result = backend.flyte("abort", "action", name, "a0")
    assert result.returncode == 0, result.stderr
    assert f"Aborted action a0 of run {name}" in result.stdout
    (action,) = [a for a in backend.json("get", "action", name) if a["name"] == "a0"]
    deadline = time.monotonic() + 60
    while action["phase"] != "ABORTED" and time.monotonic() < deadline:
        time.sleep(0.3)
        (action,) = backend.json("get", "action", name, "a0")
    assert action["phase"] == "ABORTED"


def test_abort_of_a_finished_action_changes_nothing(backend, finished_run):
    result = backend.flyte("abort", "action", finished_run, "a0")
    assert result.returncode == 0
    assert "already ended succeeded; nothing to abort" in result.stdout


IO_TASKS = textwrap.dedent(
    """
    from flyte.io import Dir, File
    from flyte.runtime import TaskEnvironment

    env = TaskEnvironment("cliio")

    @env.task
    async def count(f: File) -> int:
        async with f.open("r") as fh:
            return len((await fh.read()).splitlines())

    @env.task
    async def listing(d: Dir) -> list[str]:
        return sorted([x.name async for x in d.walk()])
    """
)


def test_file_and_dir_inputs_from_local_paths_are_uploaded(backend, tmp_path):
    tasks = tmp_path / "cliio.py"
    tasks.write_text(IO_TASKS)
    (tmp_path / "lines.txt").write_text("a\nb\nc\n")
    (tmp_path / "folder").mkdir()
    for name in ("x.txt", "y.txt"):
        (tmp_path / "folder" / name).write_text(name)
    counted = backend.flyte("run", str(tasks), "count", "--f", str(tmp_path / "lines.txt"))
    assert counted.returncode == 0, counted.stderr
    assert f"Uploaded {tmp_path / 'lines.txt'} for input f:" in counted.stderr
    assert counted.stdout.splitlines()[-1] == "o0: 3"
    listed = backend.flyte("run", str(tasks), "listing", "--d", str(tmp_path / "folder"))
    assert listed.returncode == 0, listed.stderr
    assert listed.stdout.splitlines()[-1] == "o0: ['x.txt', 'y.txt']"
    missing = backend.flyte("run", str(tasks), "count", "--f", str(tmp_path / "absent.txt"))
    assert missing.returncode == 2
    assert "absent.txt' is not an existing file; example: --f" in missing.stderr
