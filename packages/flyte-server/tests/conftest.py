"""A real server for the whole session: ``python -m flyte.server`` on a free loopback port with its
own data dir, always stopped at the end; a project with test tasks, bundled and deployed once."""

from __future__ import annotations

import asyncio
import hashlib
import textwrap
import urllib.request
from base64 import b64encode
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pytest
import pytest_asyncio
from flyteidl2.dataproxy import dataproxy_service_pb2
from flyteidl2.task import task_definition_pb2, task_service_pb2

from flyte.models import Backoff, RetryStrategy, TaskID, TaskSpec, Timeout
from flyte.remote import ClientSet
from flyte.runtime._bundle import build_tgz_bundle
from flyte.server.testing import ServerProcess as Server
from flyte.server.testing import start_server, stop_server
from flyte.types import NativeInterface

PROJECT, DOMAIN = "testproj", "development"

TASKS_MODULE = "srvtasks"
TASKS = textwrap.dedent(
    """
    import asyncio
    import os
    import time

    from flyte.runtime import TaskEnvironment

    env = TaskEnvironment("srv")

    @env.task
    async def add(x: int, y: int) -> int:
        return x + y

    @env.task
    async def fan(n: int) -> list[int]:
        return list(await asyncio.gather(*(add(i, 1) for i in range(n))))

    @env.task
    def boom(x: int) -> int:
        raise ValueError(f"cannot handle {x}")

    @env.task
    def flaky(succeed_on: int) -> int:
        attempt = int(os.environ["FLYTE_ATTEMPT_NUMBER"])
        if attempt < succeed_on:
            raise RuntimeError(f"attempt {attempt} fails")
        return attempt

    @env.task
    def getenv(names: list[str]) -> dict[str, str]:
        return {name: os.environ.get(name, "<unset>") for name in names}

    @env.task
    def sleepy(seconds: float) -> str:
        time.sleep(seconds)
        return "woke up"
    """
)


# The same signatures, for the interfaces in the task specs (the server never imports the tasks).
async def add(x: int, y: int) -> int: ...
async def fan(n: int) -> list[int]: ...
def boom(x: int) -> int: ...
def flaky(succeed_on: int) -> int: ...
def getenv(names: list[str]) -> dict[str, str]: ...
def sleepy(seconds: float) -> str: ...


SIGNATURES = {f.__name__: f for f in (add, fan, boom, flaky, getenv, sleepy)}


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    running = start_server(tmp_path_factory.mktemp("server") / "data", max_concurrency=2)
    try:
        yield running
    finally:
        stop_server(running)


@pytest_asyncio.fixture
async def clients(server: Server) -> AsyncIterator[ClientSet]:
    async with ClientSet(server.address, insecure=True, rpc_retries=1) as cs:
        yield cs


def put(url: str, data: bytes, headers: dict[str, str] | None = None) -> int:
    """HTTP PUT as the public client uploads to a signed URL; returns the status."""
    request = urllib.request.Request(url, data=data, method="PUT", headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return int(response.status)
    except urllib.error.HTTPError as e:
        return int(e.code)


async def upload(clients: ClientSet, path: Path) -> str:
    """CreateUploadLocation + PUT, the public client's sequence; returns the native URL."""
    data = await asyncio.to_thread(path.read_bytes)
    md5 = hashlib.md5(data).digest()
    location = await clients.dataproxy_service.CreateUploadLocation(
        dataproxy_service_pb2.CreateUploadLocationRequest(
            project=PROJECT, domain=DOMAIN, filename=path.name, content_md5=md5
        )
    )
    status = put(location.signed_url, data, {"Content-MD5": b64encode(md5).decode(), **location.headers})
    assert status == 200, status
    return str(location.native_url)


def a0_args(bundle_uri: str, function: str, version: str) -> tuple[str, ...]:
    """The container command line the SDK deploys tasks with (the a0 contract of ARCHITECTURE.md)."""
    from flyte.runtime._deploy import a0_args as sdk_a0_args

    return sdk_a0_args(bundle_uri, TASKS_MODULE, function, version)


def task_spec(bundle_uri: str, function: str, version: str = "v1", **policies: object) -> TaskSpec:
    return TaskSpec(
        TaskID(f"srv.{function}", version, project=PROJECT, domain=DOMAIN),
        interface=NativeInterface.from_callable(SIGNATURES[function]).to_proto(),
        image="local",
        args=a0_args(bundle_uri, function, version),
        short_name=function,
        environment="srv",
        **policies,  # type: ignore[arg-type]
    )


@pytest.fixture(scope="session")
def bundle(tmp_path_factory: pytest.TempPathFactory) -> Path:
    project = tmp_path_factory.mktemp("project")
    (project / f"{TASKS_MODULE}.py").write_text(TASKS)
    return build_tgz_bundle(project, tmp_path_factory.mktemp("bundles")).path


@dataclass(frozen=True)
class Deployed:
    """The test tasks, deployed once: name -> TaskIdentifier."""

    bundle_uri: str
    ids: dict[str, task_definition_pb2.TaskIdentifier]


async def deploy_tasks(clients: ClientSet, bundle: Path) -> Deployed:
    """Upload the bundle and deploy every test task (version v1) to the server ``clients`` reach."""
    uri = await upload(clients, bundle)
    specs = {
        "add": task_spec(uri, "add"),
        "fan": task_spec(uri, "fan"),
        "getenv": task_spec(uri, "getenv", env_vars={"FROM_TASK": "task", "SHADOWED": "task"}),
        "boom": task_spec(uri, "boom", retries=1),
        "flaky": task_spec(uri, "flaky", retries=RetryStrategy(3, Backoff(timedelta(milliseconds=100)))),
        "sleepy": task_spec(uri, "sleepy", timeout=Timeout(max_runtime=3), retries=1),
    }
    for spec in specs.values():
        await clients.task_service.DeployTask(
            task_service_pb2.DeployTaskRequest(task_id=spec.task_id.to_proto(), spec=spec.to_proto())
        )
    return Deployed(uri, {name: spec.task_id.to_proto() for name, spec in specs.items()})


# Deployed once per session on the shared server (async fixtures here run on per-test loops).
_deployed: Deployed | None = None


@pytest_asyncio.fixture
async def deployed(clients: ClientSet, bundle: Path) -> Deployed:
    global _deployed
    if _deployed is None:
        _deployed = await deploy_tasks(clients, bundle)
    return _deployed


# --- flyte.remote objects, and the tasks of svc_tasks.py (projects, secrets, logs, downloads) ---


@pytest.fixture
def remote(server: Server, monkeypatch: pytest.MonkeyPatch) -> Server:
    """``flyte.remote`` objects talk to the test server, in the test project."""
    import flyte.remote
    from flyte.remote import _session

    monkeypatch.setattr(_session, "_configured", None)
    flyte.remote.configure(server.address, insecure=True, project=PROJECT, domain=DOMAIN)
    return server


@pytest.fixture(scope="session")
def svc_bundle(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from .svc_tasks import build_bundle

    return build_bundle(tmp_path_factory.mktemp("svcproject"), tmp_path_factory.mktemp("svcbundles"))


@pytest_asyncio.fixture
async def svc_bundle_uri(clients: ClientSet, svc_bundle: Path) -> str:
    """The svc_tasks bundle, uploaded (same content, same place: once per test is cheap)."""
    return await upload(clients, svc_bundle)
