"""Malformed requests get the right status code and change nothing: no row, no file."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import grpc
import pytest
from flyteidl2.common import identifier_pb2
from flyteidl2.dataproxy import dataproxy_service_pb2
from flyteidl2.task import common_pb2, task_definition_pb2, task_service_pb2
from flyteidl2.workflow import run_service_pb2

from flyte.remote import ClientSet

from .conftest import DOMAIN, PROJECT, Deployed, Server, task_spec

pytestmark = pytest.mark.asyncio
INVALID = grpc.StatusCode.INVALID_ARGUMENT
NOT_FOUND = grpc.StatusCode.NOT_FOUND


def snapshot(server: Server) -> tuple[object, ...]:
    """Row counts of every table and the files of the data dir (logs aside)."""
    db = sqlite3.connect(f"file:{server.data_dir / 'flyte.db'}?mode=ro", uri=True)
    try:
        counts = tuple(
            db.execute(f"SELECT COUNT(*) FROM {t}").fetchone()[0]
            for t in ("projects", "tasks", "runs", "actions", "attempts")
        )
    finally:
        db.close()
    files = sorted(str(p) for p in server.data_dir.rglob("*") if p.is_file() and "flyte.db" not in p.name)
    return counts, files


async def expect(code: grpc.StatusCode, call) -> str:  # type: ignore[no-untyped-def]
    with pytest.raises(grpc.aio.AioRpcError) as e:
        await call
    assert e.value.code() == code, e.value.details()
    return str(e.value.details())


def run_id(name: str = "fine-name", project: str = PROJECT) -> identifier_pb2.RunIdentifier:
    return identifier_pb2.RunIdentifier(project=project, domain=DOMAIN, name=name)


async def test_bad_identifiers_are_invalid_arguments(clients: ClientSet, server: Server, deployed: Deployed) -> None:
    before = snapshot(server)
    runs = clients.run_service
    for bad in ("", "../up", "a/b", "x" * 64, "-lead"):
        message = await expect(
            INVALID, runs.CreateRun(run_service_pb2.CreateRunRequest(run_id=run_id(bad), task_id=deployed.ids["add"]))
        )
        assert "run name" in message
    await expect(
        INVALID,
        runs.CreateRun(run_service_pb2.CreateRunRequest(run_id=run_id(project=""), task_id=deployed.ids["add"])),
    )
    await expect(INVALID, runs.GetRunDetails(run_service_pb2.GetRunDetailsRequest(run_id=run_id("bad/name"))))
    bad_action = identifier_pb2.ActionIdentifier(run=run_id(), name="..")
    await expect(INVALID, runs.GetActionDetails(run_service_pb2.GetActionDetailsRequest(action_id=bad_action)))
    bad_task = task_definition_pb2.TaskIdentifier(project=PROJECT, domain=DOMAIN, name="t", version="")
    await expect(INVALID, clients.task_service.GetTaskDetails(task_service_pb2.GetTaskDetailsRequest(task_id=bad_task)))
    await expect(INVALID, runs.CreateRun(run_service_pb2.CreateRunRequest(run_id=run_id())))  # no task at all
    assert snapshot(server) == before


async def test_unknown_things_are_not_found(clients: ClientSet, server: Server, deployed: Deployed) -> None:
    before = snapshot(server)
    unknown = task_definition_pb2.TaskIdentifier(project=PROJECT, domain=DOMAIN, name="srv.nope", version="v1")
    await expect(
        NOT_FOUND, clients.run_service.CreateRun(run_service_pb2.CreateRunRequest(run_id=run_id(), task_id=unknown))
    )
    await expect(
        NOT_FOUND,
        clients.dataproxy_service.UploadInputs(
            dataproxy_service_pb2.UploadInputsRequest(run_id=run_id(), task_id=unknown, inputs=common_pb2.Inputs())
        ),
    )
    await expect(
        NOT_FOUND, clients.run_service.GetRunDetails(run_service_pb2.GetRunDetailsRequest(run_id=run_id("nope")))
    )
    await expect(NOT_FOUND, clients.run_service.AbortRun(run_service_pb2.AbortRunRequest(run_id=run_id("nope"))))
    missing = identifier_pb2.ActionIdentifier(run=run_id("nope"), name="a0")
    await expect(
        NOT_FOUND,
        clients.dataproxy_service.GetActionData(dataproxy_service_pb2.GetActionDataRequest(action_id=missing)),
    )
    assert snapshot(server) == before


async def test_inputs_that_the_task_does_not_declare_are_refused(
    clients: ClientSet, server: Server, deployed: Deployed
):
    before = snapshot(server)
    extra = common_pb2.Inputs()
    extra.literals.add(name="z")
    await expect(
        INVALID,
        clients.run_service.CreateRun(
            run_service_pb2.CreateRunRequest(run_id=run_id(), task_id=deployed.ids["add"], inputs=extra)
        ),
    )
    assert snapshot(server) == before


async def test_offloaded_inputs_must_be_files_this_server_stored(
    clients: ClientSet, server: Server, deployed: Deployed
):
    outside = server.data_dir.parent / "outside-inputs.pb"
    outside.write_bytes(common_pb2.Inputs().SerializeToString())
    before = snapshot(server)
    for uri in (f"file://{outside}", str(outside), f"file://{server.data_dir}/blobs/../signing.key", "s3://bucket/x"):
        await expect(
            INVALID,
            clients.run_service.CreateRun(
                run_service_pb2.CreateRunRequest(
                    run_id=run_id(), task_id=deployed.ids["add"], offloaded_input_data={"uri": uri}
                )
            ),
        )
    assert snapshot(server) == before


async def test_a_deploy_whose_spec_names_another_task_is_refused(
    clients: ClientSet, server: Server, deployed: Deployed
):
    before = snapshot(server)
    spec = task_spec(deployed.bundle_uri, "add", version="mismatch")
    other = task_definition_pb2.TaskIdentifier(project=PROJECT, domain=DOMAIN, name="srv.other", version="mismatch")
    await expect(
        INVALID,
        clients.task_service.DeployTask(task_service_pb2.DeployTaskRequest(task_id=other, spec=spec.to_proto())),
    )
    await expect(INVALID, clients.task_service.DeployTask(task_service_pb2.DeployTaskRequest(task_id=other)))
    assert snapshot(server) == before


async def test_oversized_messages_are_resource_exhausted(tmp_path: Path):
    from .conftest import start_server, stop_server

    small = start_server(tmp_path / "data", max_message_bytes=1000)
    try:
        async with ClientSet(small.address, insecure=True, rpc_retries=1) as clients:
            big = common_pb2.Inputs()
            big.literals.add(name="x").value.scalar.primitive.string_value = "y" * 5000
            await expect(
                grpc.StatusCode.RESOURCE_EXHAUSTED,
                clients.dataproxy_service.UploadInputs(
                    dataproxy_service_pb2.UploadInputsRequest(run_id=run_id(), inputs=big)
                ),
            )
    finally:
        stop_server(small)
