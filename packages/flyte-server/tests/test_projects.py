"""Projects through ``flyte.remote.Project``: the default one, create, get, list, update, archive."""

from __future__ import annotations

import uuid

import grpc
import pytest
from flyteidl2.project import project_service_pb2

import flyte.remote
from flyte.remote import ClientSet

from .conftest import PROJECT, Deployed

pytestmark = pytest.mark.asyncio


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


async def test_the_default_project_exists_from_the_start(remote):
    project = await flyte.remote.Project.get.aio("flytesnacks")
    assert project.domains == ["development", "staging", "production"]
    assert not project.archived


async def test_a_project_deployed_to_exists_without_being_created(remote, deployed: Deployed):
    assert (await flyte.remote.Project.get.aio(PROJECT)).id == PROJECT


async def test_create_then_get_and_list(remote):
    pid = unique("ml")
    created = await flyte.remote.Project.create.aio(
        pid, name="Machine learning", description="models", labels={"team": "a"}
    )
    assert (created.id, created.name, created.description, created.labels) == (
        pid,
        "Machine learning",
        "models",
        {"team": "a"},
    )
    listed = [p.id async for p in flyte.remote.Project.listall.aio()]
    assert pid in listed
    assert listed == sorted(listed)
    assert [p.id async for p in flyte.remote.Project.listall.aio(filters=f"eq(id,{pid})")] == [pid]
    with pytest.raises(flyte.remote.AlreadyExistsError, match=pid):
        await flyte.remote.Project.create.aio(pid)


async def test_update_changes_only_what_is_given_and_archive_hides_it_from_the_default_list(remote):
    pid = unique("arch")
    await flyte.remote.Project.create.aio(pid, description="before")
    updated = await flyte.remote.Project.update.aio(pid, name="Renamed")
    assert (updated.name, updated.description) == ("Renamed", "before")

    archived = await updated.archive.aio()

    assert archived.archived
    assert pid not in [p.id async for p in flyte.remote.Project.listall.aio()]
    assert pid in [p.id async for p in flyte.remote.Project.listall.aio(archived=True)]
    assert not (await archived.unarchive.aio()).archived


async def test_list_pages_through_every_project(remote):
    for _ in range(3):
        await flyte.remote.Project.create.aio(unique("page"))
    everything = [p.id async for p in flyte.remote.Project.listall.aio(limit=1000)]
    paged = [p.id async for p in flyte.remote.Project.listall.aio(limit=2)]
    assert paged == everything[:2]
    assert len(everything) >= 4


async def test_unknown_projects_and_bad_requests_are_named(remote, clients: ClientSet):
    with pytest.raises(flyte.remote.ProjectNotFoundError, match="no-such"):
        await flyte.remote.Project.get.aio("no-such")
    with pytest.raises(flyte.remote.ProjectNotFoundError, match="no-such"):
        await flyte.remote.Project.update.aio("no-such", name="x")
    with pytest.raises(ValueError, match="project"):
        await flyte.remote.Project.create.aio("../up")
    for filters in ("eq(colour,red)", "near(id,x)", "eq(state,active)", "garbage"):
        with pytest.raises(grpc.aio.AioRpcError) as e:
            await clients.project_service.ListProjects(project_service_pb2.ListProjectsRequest(filters=filters))
        assert e.value.code() == grpc.StatusCode.INVALID_ARGUMENT, filters
