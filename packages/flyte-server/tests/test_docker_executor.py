"""The Docker executor: a server started with ``--executor docker`` runs each action in a container
of its task's image, on a private ``dockerd`` (no bridge, no iptables) started for this module.

The image is built for real by flyte-imagebuild from a locally made Debian base and this
repository's own wheels (the runtime and its ``a0``), offline; runs are submitted with
``flyte.run`` in remote mode, as a user would.
"""

from __future__ import annotations

import asyncio
import importlib
import importlib.util
import os
import shutil
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

pytestmark = pytest.mark.skipif(
    importlib.util.find_spec("flyte.imagebuild") is None or importlib.util.find_spec("docker") is None,
    reason="needs flyte-imagebuild and the docker SDK (the docker extra)",
)

from .conftest import Server, start_server, stop_server  # noqa: E402

WAIT_SECONDS = 120
LABEL = "org.flyte.server"


@pytest.fixture(scope="module")
def docker_host() -> Iterator[str]:
    from flyte.imagebuild import testing

    for engine in testing.engine_for_tests(pytest.skip, pytest.fail):
        yield engine.host


@pytest.fixture(scope="module")
def runtime_spec(docker_host: str, tmp_path_factory: pytest.TempPathFactory) -> Any:
    """An image with this repository's runtime (``a0`` on PATH), built on the private engine."""
    import flyte.imagebuild as ib
    from flyte.imagebuild import testing

    uv = os.environ.get("UV") or shutil.which("uv")
    assert uv is not None
    try:
        wheels = testing.workspace_wheels(tmp_path_factory.mktemp("wheels"), uv)
    except testing.EngineUnavailable as e:
        pytest.skip(str(e))
    image = (
        ib.Image.from_base(testing.BASE_IMAGE)
        .clone(name="flyte-runtime-test", extendable=True)
        .with_local_wheels(wheels, "flyte-runtime")
    )
    builder = ib.DockerBuilder(docker_host, buildkit=False, network_mode="none")
    os.environ.setdefault("FLYTE_IMAGEBUILD_RECORD_DIR", str(tmp_path_factory.mktemp("record")))
    assert ib.build(image, builder=builder).uri == image.uri
    return image


@pytest.fixture(scope="module")
def runtime_image(runtime_spec: Any) -> str:
    return str(runtime_spec.uri)


@pytest.fixture(scope="module")
def docker_server(docker_host: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    running = start_server(
        tmp_path_factory.mktemp("docker-server") / "data",
        executor="docker",
        env={"DOCKER_HOST": docker_host},  # the server's engine
    )
    try:
        yield running
    finally:
        assert stop_server(running) == 0


TASKS = """
import os
import sys
import time

from flyte.runtime import TaskEnvironment

env = TaskEnvironment("indocker", image={image!r})
missing = TaskEnvironment("missing", image="local/no-such-image:1")


@env.task
def where(x: int) -> dict[str, str]:
    print("hello from the container", flush=True)
    print("to stderr", file=sys.stderr, flush=True)
    return {{
        "python": sys.executable,
        "debian": open("/etc/debian_version").read().strip(),
        "x": str(x * 2),
        "virtual_env": os.environ.get("VIRTUAL_ENV", "<unset>"),
        "run": os.environ["RUN_NAME"],
        "cwd": os.getcwd(),
    }}


@env.task
async def fan(n: int) -> list[int]:
    import asyncio

    return list(await asyncio.gather(*(double(i) for i in range(n))))


@env.task
async def double(i: int) -> int:
    return 2 * i


@env.task(timeout=3)
def sleepy(seconds: float) -> str:
    time.sleep(seconds)
    return "woke up"


@missing.task
def nowhere(x: int) -> int:
    return x
"""


@pytest.fixture(scope="module")
def project(runtime_image: str, tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("dockerproject")
    (root / "docker_tasks.py").write_text(textwrap.dedent(TASKS).format(image=runtime_image))
    return root


@pytest.fixture
def tasks(project: Path, docker_server: Server, monkeypatch: pytest.MonkeyPatch) -> Iterator[ModuleType]:
    import flyte.runtime as fr
    from flyte.runtime import _init

    monkeypatch.syspath_prepend(str(project))
    sys.modules.pop("docker_tasks", None)
    module = importlib.import_module("docker_tasks")
    monkeypatch.setattr(_init, "_state", None)
    fr.init(endpoint=docker_server.url, insecure=True, project="dockerproj", domain="development", root_dir=project)
    yield module
    _init._state = None
    sys.modules.pop("docker_tasks", None)


def _containers(docker_host: str, **labels: str) -> list[dict[str, Any]]:
    import docker

    client = docker.APIClient(base_url=docker_host)
    try:
        filters = {"label": [f"{LABEL}=attempt", *(f"{LABEL}.{k}={v}" for k, v in labels.items())]}
        return list(client.containers(all=True, filters=filters))
    finally:
        client.close()


def _eventually(check: Any, what: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} within {timeout:.0f}s")
        time.sleep(0.1)


def test_an_action_runs_in_its_image_and_its_outputs_come_back(tasks, docker_server: Server, docker_host: str):
    import flyte.runtime as fr

    run = fr.run(tasks.where, 21).wait(timeout=WAIT_SECONDS)

    run.raise_for_status()
    out = run.outputs().o0
    # Debian's python3 in the image, not this machine's interpreter or virtual env.
    assert out["python"] == "/usr/bin/python3"
    assert out["debian"].startswith("12")
    assert out["virtual_env"] == "<unset>"
    assert out["x"] == "42"
    assert out["run"] == run.name
    assert out["cwd"].startswith(str(docker_server.data_dir))
    logs = list((docker_server.data_dir / "logs").rglob(f"{run.name}/a0/1/stdout"))
    assert len(logs) == 1
    assert logs[0].read_text() == "hello from the container\n"
    assert "to stderr" in (logs[0].parent / "stderr").read_text()
    assert _containers(docker_host, run=run.name) == []  # removed once it exited


def test_a_task_with_child_actions_runs(tasks):
    import flyte.runtime as fr

    run = fr.run(tasks.fan, 3).wait(timeout=WAIT_SECONDS)

    run.raise_for_status()
    assert run.outputs().o0 == [0, 2, 4]


def test_a_task_whose_image_is_missing_fails_with_what_to_do(tasks):
    import flyte.errors
    import flyte.runtime as fr

    run = fr.run(tasks.nowhere, 1).wait(timeout=WAIT_SECONDS)

    assert run.phase == "FAILED"
    with pytest.raises(flyte.errors.RuntimeSystemError) as e:
        run.raise_for_status()
    message = str(e.value)
    assert "local/no-such-image:1" in message
    assert "is not on the Docker engine" in message
    assert "flyte build" in message


def test_a_timeout_kills_and_removes_the_container(tasks, docker_host: str):
    import flyte.runtime as fr

    started = time.monotonic()
    run = fr.run(tasks.sleepy, 120).wait(timeout=WAIT_SECONDS)

    assert run.phase == "TIMED_OUT"
    assert time.monotonic() - started < 60  # not the 120 s the task wanted (it is retried once at most)
    assert _containers(docker_host, run=run.name) == []


def test_abort_kills_and_removes_the_container(tasks, docker_host: str):
    import flyte.runtime as fr

    run = fr.run(tasks.sleepy, 120)
    _eventually(lambda: _containers(docker_host, run=run.name), "the action's container did not start", 60)

    run.abort("enough")
    run.wait(timeout=WAIT_SECONDS)

    assert run.phase == "ABORTED"
    _eventually(lambda: not _containers(docker_host, run=run.name), "the container was not removed", 15)


def test_an_unreachable_engine_is_a_clear_launch_error(tmp_path: Path):
    from flyte.server._docker_launcher import DockerLauncher
    from flyte.server._process import Launch

    launcher = DockerLauncher(tmp_path, base_url=f"unix://{tmp_path}/no-engine.sock")
    launch = Launch(["a0"], {}, tmp_path / "w", tmp_path / "out", tmp_path / "err", image="local/any:1")

    with pytest.raises(OSError, match=r"cannot reach the Docker engine at unix://.*no-engine\.sock"):
        asyncio.run(launcher.start(launch))


def test_a_task_without_an_image_cannot_be_launched(tmp_path: Path, docker_host: str):
    from flyte.server._docker_launcher import DockerLauncher
    from flyte.server._process import Launch

    launcher = DockerLauncher(tmp_path, base_url=docker_host)
    launch = Launch(["a0"], {}, tmp_path / "w", tmp_path / "out", tmp_path / "err", image=None)

    with pytest.raises(ValueError, match="the task has no container image"):
        asyncio.run(launcher.start(launch))


# -- ImageService.GetImage on the engine the server runs actions on ------------------------------


@pytest.fixture(scope="module")
def image_service(docker_host: str) -> Iterator[str]:
    """The server's ImageService alone, served by hypercorn on a free loopback port."""
    import socket
    import threading

    from flyteidl2.imagebuilder.service_connect import ImageServiceASGIApplication
    from hypercorn.asyncio import serve
    from hypercorn.config import Config

    from flyte.server._image_service import ImageServiceImpl

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    config = Config()
    config.bind = [f"127.0.0.1:{port}"]
    loop = asyncio.new_event_loop()
    stop = asyncio.Event()
    app = ImageServiceASGIApplication(ImageServiceImpl(docker_host))
    thread = threading.Thread(
        target=loop.run_until_complete,
        args=(serve(app, config, shutdown_trigger=stop.wait),),
        daemon=True,  # type: ignore[arg-type]
    )
    thread.start()

    def listening() -> bool:
        with socket.socket() as s:
            return s.connect_ex(("127.0.0.1", port)) == 0

    _eventually(listening, "the image service did not listen", 15)
    try:
        yield f"127.0.0.1:{port}"
    finally:
        loop.call_soon_threadsafe(stop.set)
        thread.join(15)


def test_the_remote_builder_finds_an_image_on_the_servers_engine(image_service: str, runtime_spec: Any):
    import flyte.imagebuild as ib

    result = ib.build(runtime_spec, builder=ib.RemoteBuilder(image_service), force=False)

    assert (result.built, result.found_in, result.uri) == (False, "backend", runtime_spec.uri)


def test_the_remote_builder_says_what_to_do_about_an_image_the_backend_lacks(image_service: str, runtime_spec: Any):
    import flyte.imagebuild as ib
    from flyte.errors import ImageBuildError

    missing = runtime_spec.with_env_vars({"NEVER_BUILT": "1"})

    with pytest.raises(ImageBuildError) as e:
        ib.build(missing, builder=ib.RemoteBuilder(image_service))

    message = str(e.value)
    assert message.startswith(f"image {missing.uri}, remote builder http://{image_service}: ")
    assert f"the backend has no image {missing.uri}" in message
    assert "FLYTE_IMAGE_BUILDER=local" in message


def test_get_image_finds_a_registry_image_by_name_and_tag(docker_host: str, runtime_image: str):
    import docker
    from flyteidl2.imagebuilder import definition_pb2, payload_pb2

    from flyte.server._image_service import ImageServiceImpl

    client = docker.APIClient(base_url=docker_host)
    client.tag(runtime_image, "127.0.0.1:5999/team/pushed", tag="t1")
    client.close()
    service = ImageServiceImpl(docker_host)
    request = payload_pb2.GetImageRequest(id=definition_pb2.ImageIdentifier(name="pushed:t1"))

    response = asyncio.run(service.get_image(request, None))  # type: ignore[arg-type]

    assert response.image.fqin == "127.0.0.1:5999/team/pushed:t1"
    assert response.image.id.name == "pushed:t1"


def test_an_image_from_a_registry_is_pulled_and_its_exit_status_and_output_come_back(
    docker_host: str, runtime_image: str, tmp_path: Path
):
    import docker

    from flyte.imagebuild import testing
    from flyte.server._docker_launcher import DockerLauncher
    from flyte.server._process import Launch

    try:
        registry = testing.start_registry(tmp_path / "registry")
    except testing.EngineUnavailable as e:
        pytest.skip(str(e))
    try:
        remote = f"{registry.address}/pulled/runtime:1"
        client = docker.APIClient(base_url=docker_host)
        client.tag(runtime_image, remote)
        for _ in client.push(remote, stream=True, decode=True):
            pass
        client.remove_image(remote)  # only the registry has it now
        launcher = DockerLauncher(tmp_path, base_url=docker_host)
        script = "import sys; print('out', flush=True); print('err', file=sys.stderr); sys.exit(3)"
        launch = Launch(
            ["python3", "-c", script], {}, tmp_path / "w", tmp_path / "logs/out", tmp_path / "logs/err", image=remote
        )

        async def run() -> int:
            attempt = await launcher.start(launch)
            code = await attempt.wait()
            await launcher.close()
            return code

        assert asyncio.run(run()) == 3
        assert (tmp_path / "logs/out").read_text() == "out\n"
        assert (tmp_path / "logs/err").read_text() == "err\n"
        assert client.images(name=f"{registry.address}/pulled/runtime")  # pulled
        assert _containers(docker_host) == []
        client.close()
    finally:
        registry.stop()
