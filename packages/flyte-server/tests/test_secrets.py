"""Secrets end to end: created through ``flyte.remote.Secret``, sealed at rest, injected only into the
environment of the task that asks for them, never returned, logged or written in clear."""

from __future__ import annotations

import stat
import uuid
from collections.abc import Iterator
from pathlib import Path

import grpc
import pytest
from flyteidl2.common import identifier_pb2
from flyteidl2.secret import definition_pb2, payload_pb2
from flyteidl2.task import common_pb2, task_definition_pb2, task_service_pb2
from flyteidl2.workflow import run_service_pb2

import flyte.errors
import flyte.remote
from flyte.models import Secret
from flyte.remote import ClientSet
from flyte.types import TypeEngine

from . import svc_tasks
from .conftest import DOMAIN, PROJECT, Server

WAIT_SECONDS = 90


def unique(prefix: str) -> str:
    return f"{prefix}_{uuid.uuid4().hex[:8]}"


def every_file_below(folder: Path) -> Iterator[Path]:
    return (p for p in folder.rglob("*") if p.is_file())


async def deploy_getenv(clients: ClientSet, bundle_uri: str, *secrets: Secret) -> task_definition_pb2.TaskIdentifier:
    """``getenv`` deployed under a new version that asks for ``secrets``."""
    spec = svc_tasks.spec(bundle_uri, "getenv", unique("v"), PROJECT, DOMAIN, secrets=secrets)
    return await svc_tasks.deploy(clients, bundle_uri, spec)


async def run_getenv(
    clients: ClientSet, task: task_definition_pb2.TaskIdentifier, names: list[str]
) -> flyte.remote.Run:
    """Start ``getenv(names)`` and wait for it, through a ``flyte.remote.Run``."""
    literal = await TypeEngine.to_literal(names, list[str], TypeEngine.to_literal_type(list[str]))
    inputs = common_pb2.Inputs()
    inputs.literals.add(name="names", value=literal)
    response = await clients.run_service.CreateRun(
        run_service_pb2.CreateRunRequest(
            project_id=identifier_pb2.ProjectIdentifier(name=PROJECT, domain=DOMAIN), task_id=task, inputs=inputs
        )
    )
    run = flyte.remote.Run(response.run.action, flyte.remote.current_session())
    return await run.wait.aio(timeout=WAIT_SECONDS)


@pytest.mark.asyncio
async def test_a_task_gets_the_secret_it_asks_for_in_its_environment_and_no_other(remote, clients, svc_bundle_uri):
    name, other = unique("svc_token"), unique("unrequested")
    value, other_value = f"s3cr3t-{uuid.uuid4().hex}", f"other-{uuid.uuid4().hex}"
    await flyte.remote.Secret.create.aio(name, value)
    await flyte.remote.Secret.create.aio(other, other_value)
    task = await deploy_getenv(clients, svc_bundle_uri, Secret(key=name, as_env_var="SVC_TOKEN"))

    run = await run_getenv(clients, task, ["SVC_TOKEN", other.upper()])

    run.raise_for_status()
    assert (await run.outputs.aio()).o0 == {"SVC_TOKEN": value, other.upper(): "<unset>"}
    # The task spec names the secret, never its value.
    details = await clients.task_service.GetTaskDetails(task_service_pb2.GetTaskDetailsRequest(task_id=task))
    assert name in str(details.details.spec.task_template.security_context)
    assert value.encode() not in details.SerializeToString()


@pytest.mark.asyncio
async def test_list_and_get_never_return_a_value(remote, clients):
    name, value = unique("listed"), f"never-shown-{uuid.uuid4().hex}"
    await flyte.remote.Secret.create.aio(name, value)

    listed = [s async for s in flyte.remote.Secret.listall.aio()]
    found = await flyte.remote.Secret.get.aio(name)

    assert name in [s.name for s in listed]
    assert (found.name, found.project, found.domain, found.type) == (name, PROJECT, DOMAIN, "regular")
    assert found.created_at is not None
    raw_list = await clients.secret_service.ListSecrets(payload_pb2.ListSecretsRequest(project=PROJECT, domain=DOMAIN))
    raw_get = await clients.secret_service.GetSecret(
        payload_pb2.GetSecretRequest(id=definition_pb2.SecretIdentifier(name=name, project=PROJECT, domain=DOMAIN))
    )
    for message in (raw_list, raw_get):
        assert value.encode() not in message.SerializeToString()


@pytest.mark.asyncio
async def test_values_are_sealed_at_rest_under_a_private_key(remote, server: Server):
    value = f"plaintext-{uuid.uuid4().hex}"
    await flyte.remote.Secret.create.aio(unique("at_rest"), value)

    key = server.data_dir / "secrets.key"
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    assert len(key.read_bytes()) == 32
    # Not in the database, its WAL, any blob or log, nor the server's own output.
    for path in [*every_file_below(server.data_dir), server.data_dir.parent / f"{server.data_dir.name}.log"]:
        assert value.encode() not in path.read_bytes(), path


@pytest.mark.asyncio
async def test_a_missing_secret_fails_the_action_naming_it(remote, clients, svc_bundle_uri):
    missing = unique("nowhere")
    task = await deploy_getenv(clients, svc_bundle_uri, Secret(key=missing))

    run = await run_getenv(clients, task, ["X"])

    assert run.phase == "FAILED"
    with pytest.raises(flyte.errors.BaseRuntimeError, match=missing):
        run.raise_for_status()


@pytest.mark.asyncio
async def test_project_and_org_wide_secrets_are_seen_most_specific_first(remote, clients, svc_bundle_uri):
    name = unique("layered")
    await flyte.remote.Secret.create.aio(name, "org-wide", project="", domain="")
    task = await deploy_getenv(clients, svc_bundle_uri, Secret(key=name, as_env_var="LAYERED"))
    assert (await (await run_getenv(clients, task, ["LAYERED"])).outputs.aio()).o0 == {"LAYERED": "org-wide"}

    await flyte.remote.Secret.create.aio(name, "project")
    assert (await (await run_getenv(clients, task, ["LAYERED"])).outputs.aio()).o0 == {"LAYERED": "project"}
    assert (await flyte.remote.Secret.get.aio(name)).project == PROJECT


@pytest.mark.asyncio
async def test_create_update_delete_and_their_errors(remote):
    name = unique("lifecycle")
    await flyte.remote.Secret.create.aio(name, b"\x00binary")
    with pytest.raises(flyte.remote.AlreadyExistsError, match=name):
        await flyte.remote.Secret.create.aio(name, "again")
    await flyte.remote.Secret.update.aio(name, "text now")
    await flyte.remote.Secret.delete.aio(name)
    with pytest.raises(flyte.remote.SecretNotFoundError, match=name):
        await flyte.remote.Secret.get.aio(name)
    with pytest.raises(flyte.remote.SecretNotFoundError, match=name):
        await flyte.remote.Secret.delete.aio(name)
    with pytest.raises(flyte.remote.SecretNotFoundError, match=name):
        await flyte.remote.Secret.update.aio(name, "x")
    with pytest.raises(ValueError, match="not valid"):
        await flyte.remote.Secret.create.aio("../escape", "x")


@pytest.mark.asyncio
async def test_a_value_too_large_for_an_environment_variable_is_refused(clients):
    request = payload_pb2.CreateSecretRequest(
        id=definition_pb2.SecretIdentifier(name=unique("huge"), project=PROJECT, domain=DOMAIN),
        secret_spec=definition_pb2.SecretSpec(string_value="x" * (128 * 1024)),
    )
    with pytest.raises(grpc.aio.AioRpcError) as e:
        await clients.secret_service.CreateSecret(request)
    assert e.value.code() == grpc.StatusCode.INVALID_ARGUMENT


@pytest.mark.asyncio
async def test_a_sealed_value_does_not_open_under_another_name():
    from flyte.server._secrets import SecretCipher, SecretKey, SecretUnavailableError

    cipher = SecretCipher(bytes(range(32)))
    sealed = cipher.seal(SecretKey("", "p", "d", "a"), b"value")
    assert b"value" not in sealed
    assert cipher.open(SecretKey("", "p", "d", "a"), sealed) == b"value"
    with pytest.raises(SecretUnavailableError, match="'b'"):
        cipher.open(SecretKey("", "p", "d", "b"), sealed)
    with pytest.raises(SecretUnavailableError, match="cannot be decrypted"):
        SecretCipher(bytes(32)).open(SecretKey("", "p", "d", "a"), sealed)


SECRET_TASKS = """
import os

from flyte.models import Secret
from flyte.runtime import TaskEnvironment

env = TaskEnvironment("sectasks", secrets=[Secret(key={name!r}, as_env_var="API_TOKEN")])


@env.task
def token_length() -> int:
    return len(os.environ["API_TOKEN"])
"""


def test_a_task_environment_asking_for_a_secret_gets_it_when_run_remotely(
    remote: Server, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    import importlib

    import flyte.runtime as fr
    from flyte.runtime import _init

    name, module = unique("env_secret"), unique("sectasks")
    (tmp_path / f"{module}.py").write_text(SECRET_TASKS.format(name=name))
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setattr(_init, "_state", None)
    fr.init(endpoint=remote.url, insecure=True, project=PROJECT, domain=DOMAIN, root_dir=tmp_path)
    flyte.remote.Secret.create(name, "x" * 37)
    tasks = importlib.import_module(module)
    try:
        run = fr.run(tasks.token_length).wait(timeout=WAIT_SECONDS)
    finally:
        _init._state = None
    assert run.outputs().o0 == 37
