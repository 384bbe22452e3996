"""TailLogs (followed while the attempt runs) and CreateDownloadLink (signed, expiring, confined
GET links) against real ``a0`` processes."""

from __future__ import annotations

import asyncio
import http.client
import io
import time
import uuid
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import grpc
import pytest
from flyteidl2.common import identifier_pb2
from flyteidl2.dataproxy import dataproxy_service_pb2 as dp
from flyteidl2.task import common_pb2, task_definition_pb2
from flyteidl2.workflow import run_logs_service_pb2, run_service_pb2
from google.protobuf import duration_pb2

import flyte.remote
from flyte.remote import ClientSet
from flyte.types import TypeEngine

from . import svc_tasks
from .conftest import DOMAIN, PROJECT, Server

pytestmark = pytest.mark.asyncio
WAIT_SECONDS = 90


async def start(clients: ClientSet, bundle_uri: str, function: str, **values: tuple[Any, type]) -> flyte.remote.Run:
    spec = svc_tasks.spec(bundle_uri, function, "v1", PROJECT, DOMAIN)
    task = await svc_tasks.deploy(clients, bundle_uri, spec)
    inputs = common_pb2.Inputs()
    for name, (value, python_type) in values.items():
        literal = await TypeEngine.to_literal(value, python_type, TypeEngine.to_literal_type(python_type))
        inputs.literals.add(name=name, value=literal)
    response = await clients.run_service.CreateRun(
        run_service_pb2.CreateRunRequest(
            project_id=identifier_pb2.ProjectIdentifier(name=PROJECT, domain=DOMAIN), task_id=task, inputs=inputs
        )
    )
    return flyte.remote.Run(response.run.action, flyte.remote.current_session())


def get(url: str, method: str = "GET") -> tuple[int, bytes]:
    """A raw HTTP request, so paths reach the server exactly as written (no client normalisation)."""
    parts = urlsplit(url)
    connection = http.client.HTTPConnection(parts.netloc, timeout=30)
    try:
        connection.request(method, parts.path + (f"?{parts.query}" if parts.query else ""))
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


def with_query(url: str, **changes: str) -> str:
    parts = urlsplit(url)
    query = {k: v[0] for k, v in parse_qs(parts.query).items()} | changes
    return parts._replace(query=urlencode(query)).geturl()


EXPECTED = {*(f"out line {i}" for i in range(3)), *(f"err line {i}" for i in range(3)), "no newline at the end"}


async def test_logs_of_a_finished_attempt_are_its_stdout_and_stderr(remote, clients, svc_bundle_uri):
    run = await start(clients, svc_bundle_uri, "chatty", n=(3, int), delay=(0.0, float))
    await run.wait.aio(timeout=WAIT_SECONDS)
    run.raise_for_status()

    lines = [line async for line in run.get_logs.aio()]

    assert sorted(lines) == sorted(EXPECTED)
    assert [x for x in lines if x.startswith("out")] == ["out line 0", "out line 1", "out line 2"]
    # RunLogsService answers the same lines.
    stream = clients.logs_service.TailLogs(run_logs_service_pb2.TailLogsRequest(action_id=run.action.action_id))
    again = [line.message async for response in stream for logs in response.logs for line in logs.lines]
    assert sorted(again) == sorted(lines)


async def test_following_the_logs_shows_lines_while_the_attempt_runs(remote, clients, svc_bundle_uri):
    run = await start(clients, svc_bundle_uri, "chatty", n=(12, int), delay=(0.25, float))
    seen: list[tuple[str, str]] = []
    async for line in run.action.get_logs.aio(follow=True):
        if not seen:  # the first line arrives before the attempt has ended
            seen.append((line, (await run.details.aio()).phase))
        else:
            seen.append((line, ""))
    assert seen[0][1] == "RUNNING"
    assert {line for line, _ in seen} == {
        *(f"out line {i}" for i in range(12)),
        *(f"err line {i}" for i in range(12)),
        "no newline at the end",
    }
    # The followed stream ended by itself when the attempt ended.
    assert (await run.wait.aio(timeout=WAIT_SECONDS)).phase == "SUCCEEDED"


async def test_show_logs_prints_and_without_follow_stops_at_what_there_is(remote, clients, svc_bundle_uri):
    run = await start(clients, svc_bundle_uri, "chatty", n=(200, int), delay=(0.1, float))
    async for _ in run.get_logs.aio(follow=True):
        break  # it has started writing
    began = time.monotonic()
    partial = [line async for line in run.get_logs.aio(follow=False)]
    assert time.monotonic() - began < 10  # it did not wait the ~20 s the attempt runs
    assert "out line 0" in partial
    assert "out line 199" not in partial
    await run.abort.aio("enough")
    await run.wait.aio(timeout=WAIT_SECONDS)

    shown = io.StringIO()
    await run.show_logs.aio(file=shown)
    assert "out line 0" in shown.getvalue().splitlines()


async def test_logs_of_unknown_actions_and_attempts_are_not_found(remote, clients, svc_bundle_uri):
    run = await start(clients, svc_bundle_uri, "chatty", n=(1, int), delay=(0.0, float))
    await run.wait.aio(timeout=WAIT_SECONDS)
    with pytest.raises(flyte.remote.LogsNotAvailableError, match="attempt 7"):
        [line async for line in run.get_logs.aio(attempt=7)]
    missing = flyte.remote.Action.get.aio(run.name, "nope")
    with pytest.raises(flyte.remote.ActionNotFoundError, match="nope"):
        await missing
    stream = clients.dataproxy_service.TailLogs(
        dp.TailLogsRequest(action_id=identifier_pb2.ActionIdentifier(run=run.action.action_id.run, name="nope"))
    )
    with pytest.raises(grpc.aio.AioRpcError) as e:
        [r async for r in stream]
    assert e.value.code() == grpc.StatusCode.NOT_FOUND


async def link(clients: ClientSet, kind: int, **source: Any) -> dp.CreateDownloadLinkResponse:
    return await clients.dataproxy_service.CreateDownloadLink(
        dp.CreateDownloadLinkRequest(artifact_type=kind, **source)
    )


async def test_a_report_link_downloads_the_attempts_report(remote, clients, svc_bundle_uri):
    title = f"report {uuid.uuid4().hex[:6]}"
    run = await start(clients, svc_bundle_uri, "reporter", title=(title, str))
    await run.wait.aio(timeout=WAIT_SECONDS)
    attempt = identifier_pb2.ActionAttemptIdentifier(action_id=run.action.action_id, attempt=1)

    response = await link(clients, dp.ARTIFACT_TYPE_REPORT, action_attempt_id=attempt)

    (url,) = response.pre_signed_urls.signed_url
    assert get(url) == (200, f"<h1>{title}</h1>".encode())
    assert response.pre_signed_urls.expires_at.seconds > time.time()
    assert get(url, "HEAD")[0] == 200
    assert get(url, "POST")[0] == 405


async def test_code_bundle_links_by_action_and_by_task(remote, clients, svc_bundle_uri, svc_bundle: Path):
    run = await start(clients, svc_bundle_uri, "chatty", n=(1, int), delay=(0.0, float))
    await run.wait.aio(timeout=WAIT_SECONDS)
    by_action = await link(
        clients,
        dp.ARTIFACT_TYPE_CODE_BUNDLE,
        action_attempt_id=identifier_pb2.ActionAttemptIdentifier(action_id=run.action.action_id),
    )
    task_id = task_definition_pb2.TaskIdentifier(project=PROJECT, domain=DOMAIN, name="svc.chatty", version="v1")
    by_task = await link(clients, dp.ARTIFACT_TYPE_CODE_BUNDLE, task_id=task_id)
    content = await asyncio.to_thread(svc_bundle.read_bytes)
    for response in (by_action, by_task):
        assert get(response.pre_signed_urls.signed_url[0]) == (200, content)


async def test_tampered_expired_and_escaping_links_are_refused(remote, clients, server: Server, svc_bundle_uri):
    run = await start(clients, svc_bundle_uri, "reporter", title=("t", str))
    await run.wait.aio(timeout=WAIT_SECONDS)
    attempt = identifier_pb2.ActionAttemptIdentifier(action_id=run.action.action_id)
    url = (await link(clients, dp.ARTIFACT_TYPE_REPORT, action_attempt_id=attempt)).pre_signed_urls.signed_url[0]
    signature = parse_qs(urlsplit(url).query)["sig"][0]

    tampered = with_query(url, sig=("0" if signature[0] != "0" else "1") + signature[1:])
    assert get(tampered)[0] == 403
    assert get(with_query(url, expires=str(int(time.time()) + 10_000)))[0] == 403  # expiry is signed
    assert get(url.split("?", 1)[0])[0] == 403  # unsigned
    base = server.url
    query = urlsplit(url).query
    for path in ("/download/runs/../signing.key", "/download/flyte.db", "/download/secrets.key", "/download/runs/"):
        assert get(f"{base}{path}?{query}")[0] == 400, path
    # Moving the signed path elsewhere breaks the signature.
    other = urlsplit(url)._replace(path=urlsplit(url).path.replace("report.html", "outputs.pb")).geturl()
    assert get(other)[0] == 403

    short = await link(
        clients,
        dp.ARTIFACT_TYPE_REPORT,
        action_attempt_id=attempt,
        expires_in=duration_pb2.Duration(seconds=1),
    )
    await asyncio.sleep(2.1)
    assert get(short.pre_signed_urls.signed_url[0])[0] == 403


async def test_links_to_what_does_not_exist_are_not_found(remote, clients, svc_bundle_uri):
    run = await start(clients, svc_bundle_uri, "chatty", n=(1, int), delay=(0.0, float))
    await run.wait.aio(timeout=WAIT_SECONDS)
    attempt = identifier_pb2.ActionAttemptIdentifier(action_id=run.action.action_id)
    cases = [
        (dp.ARTIFACT_TYPE_REPORT, {"action_attempt_id": attempt}, grpc.StatusCode.NOT_FOUND),  # wrote no report
        (
            dp.ARTIFACT_TYPE_REPORT,
            {"action_attempt_id": identifier_pb2.ActionAttemptIdentifier(action_id=attempt.action_id, attempt=9)},
            grpc.StatusCode.NOT_FOUND,
        ),
        (
            dp.ARTIFACT_TYPE_CODE_BUNDLE,
            {"task_id": task_definition_pb2.TaskIdentifier(project=PROJECT, domain=DOMAIN, name="svc.x", version="v")},
            grpc.StatusCode.NOT_FOUND,
        ),
        (dp.ARTIFACT_TYPE_UNSPECIFIED, {"action_attempt_id": attempt}, grpc.StatusCode.INVALID_ARGUMENT),
        (dp.ARTIFACT_TYPE_REPORT, {}, grpc.StatusCode.INVALID_ARGUMENT),
    ]
    for kind, source, code in cases:
        with pytest.raises(grpc.aio.AioRpcError) as e:
            await link(clients, kind, **source)
        assert e.value.code() == code, (kind, source)
