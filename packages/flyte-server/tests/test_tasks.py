"""TaskService: deploy is idempotent for the same spec and refuses a changed one; get and list."""

from __future__ import annotations

import grpc
import pytest
from flyteidl2.common import identifier_pb2, list_pb2
from flyteidl2.task import task_service_pb2

from flyte.remote import ClientSet

from .conftest import DOMAIN, PROJECT, Deployed, task_spec

pytestmark = pytest.mark.asyncio


async def deploy(clients: ClientSet, spec) -> task_service_pb2.DeployTaskResponse:  # type: ignore[no-untyped-def]
    return await clients.task_service.DeployTask(
        task_service_pb2.DeployTaskRequest(task_id=spec.task_id.to_proto(), spec=spec.to_proto())
    )


async def test_deploying_the_same_spec_again_is_a_no_op(clients, deployed: Deployed):
    spec = task_spec(deployed.bundle_uri, "add", version="same-twice")
    await deploy(clients, spec)
    await deploy(clients, spec)
    got = await clients.task_service.GetTaskDetails(
        task_service_pb2.GetTaskDetailsRequest(task_id=spec.task_id.to_proto())
    )
    assert got.details.spec.task_template.container.args[0] == "a0"
    assert got.details.metadata.short_name == "add"
    assert got.details.metadata.environment_name == "srv"


async def test_a_different_spec_under_a_deployed_version_is_refused(clients, deployed: Deployed):
    spec = task_spec(deployed.bundle_uri, "add", version="changed")
    await deploy(clients, spec)
    changed = task_spec(deployed.bundle_uri, "add", version="changed", retries=5)
    with pytest.raises(grpc.aio.AioRpcError) as e:
        await deploy(clients, changed)
    assert e.value.code() == grpc.StatusCode.ALREADY_EXISTS
    stored = await clients.task_service.GetTaskDetails(
        task_service_pb2.GetTaskDetailsRequest(task_id=spec.task_id.to_proto())
    )
    assert stored.details.spec.task_template.metadata.retries.retries == 0


async def test_tasks_are_listed_by_project_with_filters_and_pages(clients, deployed: Deployed):
    project = identifier_pb2.ProjectIdentifier(name=PROJECT, domain=DOMAIN)
    named = list_pb2.Filter(function=list_pb2.Filter.EQUAL, field="name", values=["srv.fan"])
    listed = await clients.task_service.ListTasks(
        task_service_pb2.ListTasksRequest(project_id=project, request=list_pb2.ListRequest(filters=[named]))
    )
    assert [t.task_id.name for t in listed.tasks] == ["srv.fan"]
    assert listed.metadata.filtered_total == 1
    assert listed.metadata.total >= 5
    page = await clients.task_service.ListTasks(
        task_service_pb2.ListTasksRequest(project_id=project, request=list_pb2.ListRequest(limit=2))
    )
    assert len(page.tasks) == 2
    assert page.token
    rest = await clients.task_service.ListTasks(
        task_service_pb2.ListTasksRequest(project_id=project, request=list_pb2.ListRequest(limit=100, token=page.token))
    )
    names = [(t.task_id.name, t.task_id.version) for t in [*page.tasks, *rest.tasks]]
    assert len(names) == len(set(names)) == listed.metadata.total
    elsewhere = identifier_pb2.ProjectIdentifier(name="another", domain=DOMAIN)
    none = await clients.task_service.ListTasks(task_service_pb2.ListTasksRequest(project_id=elsewhere))
    assert list(none.tasks) == []
