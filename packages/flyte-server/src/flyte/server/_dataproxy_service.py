"""DataProxyService: signed upload URLs, offloaded inputs, and an action's data."""

from __future__ import annotations

import base64
import secrets
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

from connectrpc.code import Code
from connectrpc.errors import ConnectError
from connectrpc.request import RequestContext
from flyteidl2.common import run_pb2 as common_run_pb2
from flyteidl2.dataproxy import dataproxy_service_pb2 as pb
from flyteidl2.dataproxy.dataproxy_service_connect import DataProxyService

from flyte.server import _names as names
from flyte.server._action_data import action_data
from flyte.server._convert import timestamp
from flyte.server._download import sign_download
from flyte.server._layout import from_uri, to_uri
from flyte.server._logs import choose_attempt, tail_logs
from flyte.server._messages import inputs_hash, write_message
from flyte.server._requests import check_inputs, find_action, resolve_task, run_key, scope, task_key
from flyte.server._rpc_errors import invalid_argument, not_found
from flyte.server._signing import SignedRequest
from flyte.server._state import ServerState

UPLOAD_PREFIX = "/upload/"
DEFAULT_EXPIRY_SECONDS = 3600
MAX_EXPIRY_SECONDS = 7 * 24 * 3600
NO_ORG = "_"


class DataProxyServiceImpl(DataProxyService):
    def __init__(self, state: ServerState):
        self._state = state

    async def create_upload_location(
        self, request: pb.CreateUploadLocationRequest, ctx: RequestContext[Any, Any]
    ) -> pb.CreateUploadLocationResponse:
        state = self._state
        org = names.check_org(request.org)
        project, domain = names.check_project(request.project), names.check_domain(request.domain)
        filename = [names.check_path_segment(p, "filename") for p in request.filename.split("/")]
        if request.content_md5 and len(request.content_md5) != 16:
            raise invalid_argument(f"content_md5 must be the 16 bytes of an MD5 digest, got {len(request.content_md5)}")
        if request.content_length > state.config.max_upload_bytes:
            raise ConnectError(
                Code.RESOURCE_EXHAUSTED,
                f"content_length {request.content_length} is over this server's upload limit of "
                f"{state.config.max_upload_bytes} bytes",
            )
        if request.filename_root:
            root = [names.check_path_segment(p, "filename_root") for p in request.filename_root.split("/")]
        else:
            # Same content, same folder: the MD5 names it when the client sent one.
            token = request.content_md5 or secrets.token_bytes(16)
            root = [base64.b32encode(token).decode().rstrip("=").lower()]
        expires_in = request.expires_in.ToSeconds() if request.HasField("expires_in") else DEFAULT_EXPIRY_SECONDS
        if expires_in <= 0:
            raise invalid_argument(f"expires_in must be positive, got {expires_in} s")
        expires = int(time.time()) + min(expires_in, MAX_EXPIRY_SECONDS)
        key = "/".join([org or NO_ORG, project, domain, *root, *filename])
        signed = SignedRequest("PUT", UPLOAD_PREFIX + key, expires, request.content_md5.hex())
        query = urlencode({"expires": expires, "md5": signed.content_md5, "sig": state.signer.sign(signed)})
        return pb.CreateUploadLocationResponse(
            signed_url=f"{state.base_url}{UPLOAD_PREFIX}{quote(key)}?{query}",
            native_url=to_uri(state.layout.blob(*key.split("/"))),
            expires_at=timestamp(expires),
        )

    async def upload_inputs(
        self, request: pb.UploadInputsRequest, ctx: RequestContext[Any, Any]
    ) -> pb.UploadInputsResponse:
        state = self._state
        if request.HasField("run_id"):
            key = run_key(request.run_id)
            org, project, domain = key.org, key.project, key.domain
        elif request.HasField("project_id"):
            org, project, domain = scope(request.project_id)
        else:
            raise invalid_argument("UploadInputs needs run_id or project_id")
        if request.HasField("trigger_name"):
            raise ConnectError(Code.UNIMPLEMENTED, "trigger inputs are not supported by this server yet")
        task = await resolve_task(
            state,
            request.task_id if request.HasField("task_id") else None,
            request.task_spec if request.HasField("task_spec") else None,
        )
        check_inputs(task.spec, request.inputs)
        digest = inputs_hash(request.inputs)
        path = state.layout.blob(org or NO_ORG, project, domain, "inputs", digest, "inputs.pb")
        uri = await write_message(to_uri(path), request.inputs)
        return pb.UploadInputsResponse(
            offloaded_input_data=common_run_pb2.OffloadedInputData(uri=uri, inputs_hash=digest)
        )

    async def get_action_data(
        self, request: pb.GetActionDataRequest, ctx: RequestContext[Any, Any]
    ) -> pb.GetActionDataResponse:
        data = await action_data(self._state, request.action_id)
        return pb.GetActionDataResponse(
            inputs=data.inputs, outputs=data.outputs, inputs_uri=data.inputs_uri, outputs_uri=data.outputs_uri
        )

    async def tail_logs(
        self, request: pb.TailLogsRequest, ctx: RequestContext[Any, Any]
    ) -> AsyncIterator[pb.TailLogsResponse]:
        async for lines in tail_logs(self._state, request.action_id, request.attempt):
            yield pb.TailLogsResponse(logs=[pb.TailLogsResponse.Logs(lines=lines)] if lines else [])

    async def create_download_link(
        self, request: pb.CreateDownloadLinkRequest, ctx: RequestContext[Any, Any]
    ) -> pb.CreateDownloadLinkResponse:
        state = self._state
        expires_in = request.expires_in.ToSeconds() if request.HasField("expires_in") else DEFAULT_EXPIRY_SECONDS
        if expires_in <= 0:
            raise invalid_argument(f"expires_in must be positive, got {expires_in} s")
        expires = int(time.time()) + min(expires_in, MAX_EXPIRY_SECONDS)
        path = await self._artifact(request)
        if not path.is_file():
            raise not_found(f"{_ARTIFACTS.get(request.artifact_type, 'the artifact')} does not exist (yet)")
        try:
            url = sign_download(state.signer, state.base_url, state.layout.root, path, expires)
        except ValueError:
            raise not_found("that artifact is not stored on this server") from None
        return pb.CreateDownloadLinkResponse(
            pre_signed_urls=pb.PreSignedURLs(signed_url=[url], expires_at=timestamp(expires))
        )

    async def _artifact(self, request: pb.CreateDownloadLinkRequest) -> Path:
        """The file a download link is asked for: an attempt's report or a code bundle."""
        kind = request.artifact_type
        if kind not in _ARTIFACTS:
            raise invalid_argument("artifact_type must be ARTIFACT_TYPE_REPORT or ARTIFACT_TYPE_CODE_BUNDLE")
        source = request.WhichOneof("source")
        if source == "task_id" and kind == pb.ARTIFACT_TYPE_CODE_BUNDLE:
            key = task_key(request.task_id)
            row = await self._state.store.get_task(key.org, key.project, key.domain, key.name, key.version)
            if row is None:
                raise not_found(f"task {key.name} version {key.version} is not deployed in {key.project}/{key.domain}")
            return _bundle_path(row.spec)
        if source != "action_attempt_id":
            raise invalid_argument(
                f"{_ARTIFACTS[kind]} links need action_attempt_id"
                + (" or task_id" if kind == pb.ARTIFACT_TYPE_CODE_BUNDLE else "")
            )
        action = await find_action(self._state, request.action_attempt_id.action_id)
        if kind == pb.ARTIFACT_TYPE_CODE_BUNDLE:
            return _bundle_path(action.task_spec)
        attempts = await self._state.store.attempts(action.id)
        wanted = request.action_attempt_id.attempt
        chosen = choose_attempt(attempts, wanted)
        if chosen is None:
            raise not_found(f"action {action.name} of run {action.run_name} has no attempt {wanted or ''}".rstrip())
        return from_uri(chosen.outputs_uri) / "report.html"


_ARTIFACTS = {pb.ARTIFACT_TYPE_REPORT: "the report", pb.ARTIFACT_TYPE_CODE_BUNDLE: "the code bundle"}


def _bundle_path(spec_bytes: bytes) -> Path:
    """The local file of the code bundle a task spec's a0 command line loads (``--tgz`` / ``--pkl``)."""
    from flyteidl2.task import task_definition_pb2

    container = task_definition_pb2.TaskSpec.FromString(spec_bytes).task_template.container
    args = [*container.command, *container.args]
    for flag in ("--tgz", "--pkl"):
        if flag in args[:-1]:
            uri = args[args.index(flag) + 1]
            try:
                return from_uri(uri)
            except ValueError:
                raise not_found(f"the code bundle {uri!r} is not stored on this server") from None
    raise not_found("the task has no code bundle (its command line names neither --tgz nor --pkl)")
