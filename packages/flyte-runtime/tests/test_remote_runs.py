"""``flyte.run`` in remote mode and ``flyte.deploy`` against a real embedded server.

The server is ``python -m flyte.server --port 0`` on loopback with its own data dir; every action
is a real ``a0`` process that imports ``remote_project/remote_tasks.py`` from the uploaded bundle.
"""

from __future__ import annotations

import asyncio
import importlib
import importlib.util
import socket
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest

import flyte.errors
import flyte.runtime as fr
from flyte.runtime import _init

pytestmark = pytest.mark.skipif(
    importlib.util.find_spec("flyte.server") is None, reason="needs flyte-server (the embedded backend)"
)

PROJECT_DIR = Path(__file__).parent / "remote_project"
WAIT_SECONDS = 90


@pytest.fixture(scope="module")
def server_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    from flyte.server.testing import running_server  # here: without flyte-server the module skips

    with running_server(tmp_path_factory.mktemp("server") / "data") as server:
        yield server.url


@pytest.fixture
def tasks(monkeypatch: pytest.MonkeyPatch) -> ModuleType:
    monkeypatch.syspath_prepend(str(PROJECT_DIR))
    return importlib.import_module("remote_tasks")


@pytest.fixture
def remote(server_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    monkeypatch.setattr(_init, "_state", None)
    fr.init(endpoint=server_url, insecure=True, project="remoteproj", domain="development", root_dir=PROJECT_DIR)
    yield server_url
    _init._state = None


def test_a_remote_run_is_waited_for_and_its_outputs_decoded(remote, tasks):
    run = fr.run(tasks.add, 40, y=2)
    assert run.name
    assert run.url.endswith(f"/v2/runs/project/remoteproj/domain/development/{run.name}")
    assert run.wait(timeout=WAIT_SECONDS) is run
    assert run.done()
    assert run.phase == "SUCCEEDED"
    run.raise_for_status()
    outputs = run.outputs()
    assert outputs == (42,)
    assert outputs.o0 == 42
    assert outputs.named_outputs() == {"o0": 42}
    assert run.inputs() == {"x": 40, "y": 2}


def test_multiple_outputs_and_defaults(remote, tasks):
    run = fr.with_runcontext(mode="remote").run(tasks.pair, "flyte").wait(timeout=WAIT_SECONDS)
    assert tuple(run.outputs()) == ("FLYTE", 5)
    assert run.outputs().o1 == 5
    defaulted = fr.run(tasks.add, 1).wait(timeout=WAIT_SECONDS)
    assert defaulted.outputs().o0 == 2
    assert defaulted.inputs() == {"x": 1, "y": 1}


def test_children_run_inside_the_root_action(remote, tasks):
    run = fr.run(tasks.fan, 4).wait(timeout=WAIT_SECONDS)
    assert run.outputs().o0 == [1, 2, 3, 4]


def test_a_failing_task_raises_its_original_message(remote, tasks):
    run = fr.run(tasks.boom, 7).wait(timeout=WAIT_SECONDS)
    assert run.phase == "FAILED"
    with pytest.raises(flyte.errors.RuntimeUserError, match="cannot handle 7") as e:
        run.raise_for_status()
    assert "ValueError" in e.value.code
    with pytest.raises(flyte.errors.RuntimeUserError, match="cannot handle 7"):
        run.outputs()


def test_get_and_listall_find_the_run(remote, tasks):
    from flyte.remote import Run

    run = fr.with_runcontext(name="named-remote-run").run(tasks.add, 2, y=3)
    assert run.name == "named-remote-run"
    again = Run.get("named-remote-run")
    assert again.name == run.name
    assert again.wait(timeout=WAIT_SECONDS).outputs().o0 == 5
    listed = list(Run.listall(limit=50))
    assert "named-remote-run" in [r.name for r in listed]
    assert [r.name for r in Run.listall(limit=1)] == [listed[0].name]
    assert "named-remote-run" in [r.name for r in Run.listall(limit=50, in_phase="SUCCEEDED")]


def test_abort_stops_a_run(remote, tasks):
    run = fr.run(tasks.fan, 2)
    run.abort("enough")
    run.wait(timeout=WAIT_SECONDS)
    # Aborted before or while it ran; a run that had already finished stays succeeded.
    assert run.phase in ("ABORTED", "SUCCEEDED")
    if run.phase == "ABORTED":
        with pytest.raises(flyte.errors.ActionAbortedError):
            run.raise_for_status()


def test_deploy_then_run_uses_the_deployed_version(remote, tasks):
    dry = fr.deploy(tasks.env, dry_run=True)
    assert [d.environment for d in dry] == ["remote"]
    assert {s.task_id.name for s in dry[0].tasks} == {"remote.add", "remote.fan", "remote.pair", "remote.boom"}
    spec = next(s for s in dry[0].tasks if s.task_id.name == "remote.add")
    assert spec.args[spec.args.index("--resolver") :] == (
        "--resolver", "flyte.runtime.DefaultTaskResolver", "mod", "remote_tasks", "instance", "add",
    )  # fmt: skip
    deployed = fr.deploy(tasks.env, version="v-deploy-1")
    assert deployed[0].version == "v-deploy-1"
    assert deployed[0].bundle_uri
    assert not deployed[0].bundle_uri.startswith(str(PROJECT_DIR))
    run = fr.with_runcontext(version="v-deploy-1").run(tasks.add, 5, y=5).wait(timeout=WAIT_SECONDS)
    details = run.details()
    assert details.task.task_template.id.version == "v-deploy-1"
    assert run.outputs().o0 == 10
    # Without a version, the bundle digest is the version, the same for deploy and run.
    by_digest = fr.deploy(tasks.env)[0].version
    assert fr.run(tasks.add, 1).wait(timeout=WAIT_SECONDS).details().task.task_template.id.version == by_digest


def test_run_aio_and_wait_aio_from_async_code(remote, tasks):
    async def main() -> int:
        run = await fr.run.aio(tasks.add, 20, y=22)
        await run.wait.aio(timeout=WAIT_SECONDS)
        return int((await run.outputs.aio()).o0)

    # A loop of the caller's own, not the SDK's background loop the run's client lives on.
    assert asyncio.run(main()) == 42

    async def notebook() -> object:
        return fr.run(tasks.add, 1, y=1)  # the sync form under a running loop, as in Jupyter

    assert asyncio.run(notebook()).wait(timeout=WAIT_SECONDS).outputs().o0 == 2  # type: ignore[attr-defined]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_an_unreachable_endpoint_is_named_with_how_to_start_a_server(tasks, monkeypatch):
    monkeypatch.setattr(_init, "_state", None)
    endpoint = f"localhost:{_free_port()}"
    fr.init(endpoint=endpoint, insecure=True, root_dir=PROJECT_DIR)
    try:
        with pytest.raises(flyte.errors.InitializationError) as e:
            fr.run(tasks.add, 1)
    finally:
        _init._state = None
    assert endpoint in str(e.value)
    assert "flyte start server" in str(e.value)


def test_cluster_only_settings_travel_in_the_deployed_spec(remote, tasks):
    (deployment,) = fr.deploy(tasks.settings_env, dry_run=True)
    (spec,) = deployment.tasks
    assert spec.resources == tasks.Resources(cpu=2, memory="1Gi")
    assert spec.cache_policy.behavior == "auto"
    assert spec.cache_version  # the function body's hash
    assert spec.retry_strategy.count == 2
    assert [s.key for s in spec.secret_requests] == ["api-key"]
    assert spec.report is True
    template = spec.to_template()
    assert template.metadata.discoverable
    assert template.container.resources.requests
