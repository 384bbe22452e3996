"""``--executor warm``: attempts forked from a warm worker, with a process's isolation.

A real server runs the same run tests as the process executor, then tasks that crash, segfault,
leak state, time out, get aborted, or lose their worker; the launcher itself is also driven
directly with small runtime scripts.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import textwrap
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
from flyteidl2.common import phase_pb2
from flyteidl2.task import task_service_pb2
from flyteidl2.workflow import run_definition_pb2, run_service_pb2

from flyte.models import TaskID, TaskSpec, Timeout
from flyte.remote import ClientSet
from flyte.runtime._bundle import build_tgz_bundle
from flyte.runtime._deploy import a0_args
from flyte.server._process import ActionProcess, Launch
from flyte.server._warm_launcher import LOST_EXIT_CODE, WarmAttempt, WarmLauncher, runtime_interpreter
from flyte.types import NativeInterface

from . import test_runs
from .conftest import DOMAIN, PROJECT, Deployed, Server, deploy_tasks, start_server, stop_server, upload
from .test_runs import create_run, inputs, outputs, watch

# Every run test of the process executor, against a warm server (the fixtures below replace the
# shared server's): the same behaviour, whichever way attempts start.
globals().update({name: test for name, test in vars(test_runs).items() if name.startswith("test_")})

pytestmark = pytest.mark.asyncio
WAIT_SECONDS = 60
SUCCEEDED = phase_pb2.ACTION_PHASE_SUCCEEDED
FAILED = phase_pb2.ACTION_PHASE_FAILED

WARM_MODULE = "warmtasks"
WARM_TASKS = textwrap.dedent(
    """
    import ctypes
    import os
    import subprocess
    import sys
    import time

    import flyte.types
    from flyte.runtime import TaskEnvironment

    env = TaskEnvironment("warm")
    SEEN = "fresh"

    @env.task
    def whoami() -> dict[str, int]:
        return {"pid": os.getpid(), "ppid": os.getppid(), "pgid": os.getpgid(0), "sid": os.getsid(0)}

    @env.task
    def crash(how: str) -> int:
        if how == "exit":
            os._exit(3)
        if how == "segfault":
            ctypes.string_at(0)
        raise SystemExit(f"unknown crash {how}")

    @env.task
    def leak(tag: str) -> list[str]:
        # What a previous action could have left: a module global (here and in a module the
        # worker imported), an environment variable, the working folder.
        global SEEN
        seen = [SEEN, getattr(flyte.types, "LEAKED", "fresh"), os.environ.get("WARM_LEAK", "fresh")]
        SEEN = tag
        flyte.types.LEAKED = tag
        os.environ["WARM_LEAK"] = tag
        return seen

    @env.task
    def nap(seconds: float) -> int:
        time.sleep(seconds)
        return os.getppid()

    @env.task
    def spawn(pid_file: str, seconds: float) -> str:
        child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(300)"])
        with open(pid_file, "w") as f:
            f.write(f"{os.getpid()} {child.pid}")
        time.sleep(seconds)
        return "done"
    """
)


async def whoami() -> dict[str, int]: ...
async def crash(how: str) -> int: ...
async def leak(tag: str) -> list[str]: ...
async def nap(seconds: float) -> int: ...
async def spawn(pid_file: str, seconds: float) -> str: ...


def warm_spec(uri: str, function: object, name: str = "", **policies: object) -> TaskSpec:
    variable = function.__name__  # type: ignore[attr-defined]
    name = name or variable
    return TaskSpec(
        TaskID(f"warm.{name}", "v1", project=PROJECT, domain=DOMAIN),
        interface=NativeInterface.from_callable(function).to_proto(),  # type: ignore[arg-type]
        image="local",
        args=a0_args(uri, WARM_MODULE, variable, "v1"),
        short_name=name,
        environment="warm",
        **policies,  # type: ignore[arg-type]
    )


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """Replaces the shared server for this module: a warm one."""
    running = start_server(tmp_path_factory.mktemp("warm") / "data", max_concurrency=2, executor="warm")
    try:
        yield running
    finally:
        stop_server(running)


_deployed: dict[str, Deployed] = {}


@pytest_asyncio.fixture
async def deployed(server: Server, clients: ClientSet, bundle: Path) -> Deployed:
    """The shared test tasks, deployed on this module's server."""
    if server.url not in _deployed:
        _deployed[server.url] = await deploy_tasks(clients, bundle)
    return _deployed[server.url]


async def deploy_warm_tasks(clients: ClientSet, folder: Path) -> dict[str, task_service_pb2.TaskIdentifier]:
    project = folder / "project"
    project.mkdir()
    (project / f"{WARM_MODULE}.py").write_text(WARM_TASKS)
    uri = await upload(clients, build_tgz_bundle(project, folder / "bundle").path)
    specs = [
        warm_spec(uri, whoami),
        warm_spec(uri, crash),
        warm_spec(uri, leak),
        warm_spec(uri, nap),
        warm_spec(uri, spawn),
        warm_spec(uri, spawn, "spawn_limited", timeout=Timeout(max_runtime=2)),
    ]
    for spec in specs:
        await clients.task_service.DeployTask(
            task_service_pb2.DeployTaskRequest(task_id=spec.task_id.to_proto(), spec=spec.to_proto())
        )
    return {s.task_id.name.removeprefix("warm."): s.task_id.to_proto() for s in specs}


@pytest_asyncio.fixture
async def warm_tasks(
    server: Server, clients: ClientSet, tmp_path_factory: pytest.TempPathFactory
) -> dict[str, task_service_pb2.TaskIdentifier]:
    key = server.url + "#warm"
    if key not in _deployed:
        ids = await deploy_warm_tasks(clients, tmp_path_factory.mktemp("warmtasks"))
        _deployed[key] = Deployed("", ids)
    return _deployed[key].ids


async def run_to_end(
    clients: ClientSet, task: object, **values: tuple[object, type]
) -> run_definition_pb2.ActionDetails:
    action = await create_run(clients, task, inputs(**values))  # type: ignore[arg-type]
    return (await watch(clients, action))[-1]


async def warm_worker(clients: ClientSet, server: Server, tasks: dict[str, Any]) -> int:
    """The warm worker's pid, once attempts fork from it (until then they run as processes)."""
    for _ in range(WAIT_SECONDS * 4):
        me = await result(clients, tasks["whoami"], dict[str, int])
        assert isinstance(me, dict)
        if me["ppid"] != server.process.pid:
            return int(me["ppid"])
        await asyncio.sleep(0.25)
    raise AssertionError("no attempt was forked from a warm worker")


async def result(clients: ClientSet, task: object, python_type: type, **values: tuple[object, type]) -> object:
    action = await create_run(clients, task, inputs(**values))  # type: ignore[arg-type]
    final = (await watch(clients, action))[-1]
    assert final.status.phase == SUCCEEDED, final.error_info
    return (await outputs(clients, action, python_type))["o0"]


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie is dead for our purposes (its parent has not reaped it yet).
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


async def gone(pid: int, seconds: float = 10.0) -> bool:
    for _ in range(int(seconds * 20)):
        if not alive(pid):
            return True
        await asyncio.sleep(0.05)
    return not alive(pid)


def _numbers(path: Path) -> list[int]:
    return [int(p) for p in path.read_text().split()] if path.exists() else []


async def start_warm(launcher: WarmLauncher, launch: Launch) -> WarmAttempt:
    """Start ``launch`` from its worker, once that is ready."""
    assert await launcher.warm(launch.argv[0], launch.env)
    attempt = await launcher.start(launch)
    assert isinstance(attempt, WarmAttempt)
    return attempt


async def wait_for_file(path: Path, parts: int) -> list[int]:
    """The ``parts`` numbers a task writes to ``path`` once it has started what the test kills."""
    for _ in range(WAIT_SECONDS * 20):
        numbers = await asyncio.to_thread(_numbers, path)
        if len(numbers) == parts:
            return numbers
        await asyncio.sleep(0.05)
    raise AssertionError(f"{path} was not written")


# ---------------------------------------------------------------------------------- a warm server


async def test_attempts_are_forked_from_one_warm_worker_into_sessions_of_their_own(clients, server, warm_tasks):
    worker = await warm_worker(clients, server, warm_tasks)
    first = await result(clients, warm_tasks["whoami"], dict[str, int])
    second = await result(clients, warm_tasks["whoami"], dict[str, int])
    assert isinstance(first, dict)
    assert isinstance(second, dict)
    # Not a child of the server: of the worker, the same one both times; a fresh process each time.
    assert first["ppid"] == second["ppid"] == worker
    assert first["pid"] != second["pid"]
    assert first["pid"] == first["pgid"] == first["sid"]


async def test_state_an_action_leaks_never_reaches_the_next_one(clients, server, warm_tasks):
    await warm_worker(clients, server, warm_tasks)
    assert await result(clients, warm_tasks["leak"], list[str], tag=("one", str)) == ["fresh"] * 3
    assert await result(clients, warm_tasks["leak"], list[str], tag=("two", str)) == ["fresh"] * 3


@pytest.mark.parametrize(("how", "status"), [("exit", "exited with status 3"), ("segfault", "killed by SIGSEGV")])
async def test_a_crashing_action_fails_alone_and_the_worker_keeps_serving(clients, server, warm_tasks, how, status):
    worker = await warm_worker(clients, server, warm_tasks)
    final = await run_to_end(clients, warm_tasks["crash"], how=(how, str))
    assert final.status.phase == FAILED
    assert final.error_info.kind == run_definition_pb2.ErrorInfo.KIND_SYSTEM
    assert status in final.error_info.message
    after = await result(clients, warm_tasks["whoami"], dict[str, int])
    assert isinstance(after, dict)
    assert after["ppid"] == worker


async def test_a_timed_out_action_loses_its_forked_process_and_what_it_started(clients, server, warm_tasks, tmp_path):
    await warm_worker(clients, server, warm_tasks)
    pid_file = tmp_path / "pids"
    final = await run_to_end(
        clients, warm_tasks["spawn_limited"], pid_file=(str(pid_file), str), seconds=(120.0, float)
    )
    assert final.status.phase == phase_pb2.ACTION_PHASE_TIMED_OUT
    action, grandchild = await wait_for_file(pid_file, 2)
    assert await gone(action)
    assert await gone(grandchild)


async def test_an_aborted_action_loses_its_forked_process_and_what_it_started(clients, server, warm_tasks, tmp_path):
    await warm_worker(clients, server, warm_tasks)
    pid_file = tmp_path / "pids"
    action = await create_run(
        clients, warm_tasks["spawn"], inputs(pid_file=(str(pid_file), str), seconds=(120.0, float))
    )
    forked, grandchild = await wait_for_file(pid_file, 2)
    await clients.run_service.AbortRun(run_service_pb2.AbortRunRequest(run_id=action.run, reason="stop"))
    final = (await watch(clients, action))[-1]
    assert final.status.phase == phase_pb2.ACTION_PHASE_ABORTED
    assert await gone(forked)
    assert await gone(grandchild)


async def test_a_killed_worker_fails_its_running_actions_and_a_new_one_takes_over(
    clients, server, warm_tasks, tmp_path
):
    worker = await warm_worker(clients, server, warm_tasks)
    pid_file = tmp_path / "pids"
    action = await create_run(
        clients, warm_tasks["spawn"], inputs(pid_file=(str(pid_file), str), seconds=(120.0, float))
    )
    forked, grandchild = await wait_for_file(pid_file, 2)
    os.kill(worker, signal.SIGKILL)
    final = (await watch(clients, action))[-1]
    # The attempt cannot finish without its worker: a system error, not a hang.
    assert final.status.phase == FAILED
    assert final.error_info.kind == run_definition_pb2.ErrorInfo.KIND_SYSTEM
    assert "warm worker" in final.error_info.message
    assert await gone(forked)
    assert await gone(grandchild)
    # Meanwhile attempts run as processes; then from a new worker.
    replacement = await warm_worker(clients, server, warm_tasks)
    assert replacement != worker
    assert alive(replacement)


async def test_the_worker_started_with_the_server_is_the_one_plain_attempts_use(tmp_path: Path):
    # The server warms up the worker of an attempt with no environment of its own as it starts:
    # the first such attempts fork from it, and no second worker is started for them.
    running = start_server(tmp_path / "data", executor="warm")
    try:

        def workers() -> list[int]:
            found = []
            for entry in os.listdir("/proc"):
                if entry.isdigit() and alive(int(entry)):
                    try:
                        with open(f"/proc/{entry}/stat") as f:
                            ppid = int(f.read().rsplit(")", 1)[1].split()[1])
                        with open(f"/proc/{entry}/cmdline", "rb") as f:
                            cmdline = f.read()
                    except OSError:
                        continue
                    if ppid == running.process.pid and b"flyte.runtime._worker" in cmdline:
                        found.append(int(entry))
            return found

        for _ in range(WAIT_SECONDS * 10):  # the warm-up starts with the server, before any run
            if workers():
                break
            await asyncio.sleep(0.1)
        started = workers()
        assert len(started) == 1, started
        async with ClientSet(running.address, insecure=True, rpc_retries=1) as own:
            tasks = await deploy_warm_tasks(own, tmp_path)
            assert await warm_worker(own, running, tasks) == started[0]
        assert workers() == started
    finally:
        stop_server(running)


async def test_running_actions_outlive_a_killed_server_and_their_outputs_are_kept(tmp_path: Path):
    data = tmp_path / "data"
    first = start_server(data, executor="warm", max_concurrency=2)
    try:
        async with ClientSet(first.address, insecure=True, rpc_retries=1) as clients:
            tasks = await deploy_warm_tasks(clients, tmp_path)
            worker = await warm_worker(clients, first, tasks)
            naps = [await create_run(clients, tasks["nap"], inputs(seconds=(s, float))) for s in (1.5, 3.0)]

            async def running(action: Any) -> None:
                request = run_service_pb2.WatchActionDetailsRequest(action_id=action)
                async for response in clients.run_service.WatchActionDetails(request):
                    if response.details.status.phase == phase_pb2.ACTION_PHASE_RUNNING:
                        return

            await asyncio.wait_for(asyncio.gather(*(running(a) for a in naps)), WAIT_SECONDS)
    finally:
        os.kill(first.process.pid, signal.SIGKILL)
        first.process.wait()
    # The worker takes no more work but lets both running attempts finish, as processes would.
    for action in naps:
        outputs_pb = data / "runs" / "_" / PROJECT / DOMAIN / action.run.name / "a0" / "1" / "outputs.pb"
        for _ in range(300):
            if outputs_pb.exists():
                break
            await asyncio.sleep(0.1)
        assert outputs_pb.exists()
    assert await gone(worker)
    second = start_server(data, executor="warm")
    try:
        async with ClientSet(second.address, insecure=True, rpc_retries=1) as clients:
            for action in naps:
                final = (await watch(clients, action))[-1]
                assert final.status.phase == SUCCEEDED
                assert len(final.attempts) == 1  # judged from the files, not run again
                assert await outputs(clients, action, int) == {"o0": worker}
    finally:
        stop_server(second)


# ---------------------------------------------------------------------------------- the launcher

SCRIPT = textwrap.dedent(
    """\
    #!{python}
    import os, subprocess, sys, time
    from flyte.runtime._a0 import main  # what makes this a runtime script to the warm launcher

    what = sys.argv[1]
    if what == "exit":
        print("out", flush=True)
        print("err", file=sys.stderr)
        sys.exit(int(sys.argv[2]))
    if what == "spawn":
        child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(300)"])
        with open(sys.argv[2], "w") as f:
            f.write(f"{{os.getpid()}} {{child.pid}}")
        time.sleep(300)
    if what == "env":
        fds = ",".join(sorted(os.listdir("/proc/self/fd")))
        print(os.environ.get("WARM_TEST"), os.getcwd(), sys.path[0], fds, flush=True)
    """
)


@pytest.fixture
def script(tmp_path: Path) -> str:
    path = tmp_path / "bin" / "a0"
    path.parent.mkdir()
    path.write_text(SCRIPT.format(python=sys.executable))
    path.chmod(0o755)
    return str(path)


def launch(tmp_path: Path, argv: list[str], name: str = "a", **env: str) -> Launch:
    logs = tmp_path / "logs" / name
    return Launch(argv, {**os.environ, **env}, tmp_path / "work" / name, logs / "stdout", logs / "stderr")


@pytest_asyncio.fixture
async def launcher() -> AsyncIterator[WarmLauncher]:
    warm = WarmLauncher()
    try:
        yield warm
    finally:
        await warm.close()


async def test_only_the_runtime_a0_script_is_run_warm(script: str, tmp_path: Path):
    assert runtime_interpreter(script) == (sys.executable,)
    other = tmp_path / "other"
    other.write_text(f"#!{sys.executable}\nprint('not the runtime')\n")
    assert runtime_interpreter(str(other)) is None
    assert runtime_interpreter("/bin/sh") is None
    assert runtime_interpreter(str(tmp_path / "missing")) is None


async def test_a_warm_attempt_gets_its_exit_status_logs_environment_and_folder(launcher, script, tmp_path):
    attempt = await start_warm(launcher, launch(tmp_path, [script, "exit", "7"]))
    assert await attempt.wait() == 7
    assert (tmp_path / "logs" / "a" / "stdout").read_text() == "out\n"
    assert (tmp_path / "logs" / "a" / "stderr").read_text() == "err\n"
    env = await start_warm(launcher, launch(tmp_path, [script, "env"], "b", WARM_TEST="yes"))
    assert await env.wait() == 0
    # The environment, working folder, sys.path[0] and descriptors (stdin, stdout, stderr and the
    # one listing them) a fresh `a0` process would have.
    assert (tmp_path / "logs" / "b" / "stdout").read_text().split() == [
        "yes",
        str(tmp_path / "work" / "b"),
        str(Path(script).parent),
        "0,1,2,3",
    ]
    # WARM_TEST differs between the two: each environment has its own worker.
    assert len(launcher.workers) == 2


async def test_a_program_that_is_not_the_runtime_runs_as_a_process(launcher, tmp_path):
    attempt = await launcher.start(launch(tmp_path, ["/bin/sh", "-c", "exit 5"]))
    assert isinstance(attempt, ActionProcess)
    assert await attempt.wait() == 5
    assert launcher.workers == []


async def test_an_attempt_runs_as_a_process_while_its_worker_starts(launcher, script, tmp_path):
    first = await launcher.start(launch(tmp_path, [script, "exit", "0"]))
    assert isinstance(first, ActionProcess)
    assert await first.wait() == 0
    assert await launcher.warm(script, os.environ)
    second = await launcher.start(launch(tmp_path, [script, "exit", "0"], "b"))
    assert isinstance(second, WarmAttempt)
    assert await second.wait() == 0


async def test_kill_ends_the_forked_process_group(launcher, script, tmp_path):
    attempt = await start_warm(launcher, launch(tmp_path, [script, "spawn", str(tmp_path / "pids")]))
    forked, grandchild = await wait_for_file(tmp_path / "pids", 2)
    assert await attempt.kill(0.5) == -signal.SIGTERM
    assert await gone(forked)
    assert await gone(grandchild)


async def test_a_dead_worker_ends_its_attempts_and_is_replaced(launcher, script, tmp_path):
    attempt = await start_warm(launcher, launch(tmp_path, [script, "spawn", str(tmp_path / "pids")]))
    forked, grandchild = await wait_for_file(tmp_path / "pids", 2)
    [worker] = launcher.workers
    assert worker.pid is not None
    os.kill(worker.pid, signal.SIGKILL)
    assert await asyncio.wait_for(attempt.wait(), 10) == LOST_EXIT_CODE
    assert "warm worker" in (tmp_path / "logs" / "a" / "stderr").read_text()
    assert await gone(forked)
    assert await gone(grandchild)
    again = await start_warm(launcher, launch(tmp_path, [script, "exit", "0"], "b"))
    assert await again.wait() == 0
    assert [w.pid for w in launcher.workers] != [worker.pid]


async def test_close_stops_the_workers_and_their_attempts(script, tmp_path):
    warm = WarmLauncher()
    await start_warm(warm, launch(tmp_path, [script, "spawn", str(tmp_path / "pids")]))
    forked, grandchild = await wait_for_file(tmp_path / "pids", 2)
    [worker] = warm.workers
    await warm.close()
    assert worker.pid is not None
    assert await gone(worker.pid)
    assert await gone(forked)
    assert await gone(grandchild)


async def test_workers_are_bounded_and_a_busy_one_is_never_stopped_for_another(script, tmp_path):
    warm = WarmLauncher(max_workers=1)
    try:
        busy = await start_warm(warm, launch(tmp_path, [script, "spawn", str(tmp_path / "pids")], "a", WARM_TEST="a"))
        await wait_for_file(tmp_path / "pids", 2)
        [first] = warm.workers
        # Another environment while the only worker is busy: a process, the busy worker untouched.
        other = await warm.start(launch(tmp_path, [script, "exit", "0"], "b", WARM_TEST="b"))
        assert isinstance(other, ActionProcess)
        assert await other.wait() == 0
        assert warm.workers == [first]
        assert await busy.kill(0.5) == -signal.SIGTERM
        # Once it is idle, it makes room for the other environment's worker.
        assert await warm.warm(script, {**os.environ, "WARM_TEST": "b"})
        assert [w.pid for w in warm.workers] != [first.pid]
        assert first.pid is not None
        assert await gone(first.pid)
    finally:
        await warm.close()
