"""The one ASGI application behind the port: every flyteidl2 service (Connect, gRPC and gRPC-Web
through connectrpc) plus the signed-upload endpoint.

Services this server does not implement yet are mounted with their generated defaults, so each
of their RPCs answers UNIMPLEMENTED in the client's protocol; an unknown path answers 404, which
Connect and gRPC clients also read as UNIMPLEMENTED.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, cast

from connectrpc.server import ConnectASGIApplication
from flyteidl2.cluster.service_connect import ClusterServiceASGIApplication
from flyteidl2.dataproxy.dataproxy_service_connect import DataProxyServiceASGIApplication
from flyteidl2.project.project_service_connect import ProjectService, ProjectServiceASGIApplication
from flyteidl2.secret.secret_connect import SecretService, SecretServiceASGIApplication
from flyteidl2.task.task_service_connect import TaskServiceASGIApplication
from flyteidl2.workflow.queue_service_connect import QueueService, QueueServiceASGIApplication
from flyteidl2.workflow.run_logs_service_connect import RunLogsService, RunLogsServiceASGIApplication
from flyteidl2.workflow.run_service_connect import RunServiceASGIApplication
from flyteidl2.workflow.state_service_connect import StateService, StateServiceASGIApplication

from flyte.server._asgi import App, Receive, Scope, Send, respond
from flyte.server._cluster_service import ClusterServiceImpl
from flyte.server._dataproxy_service import UPLOAD_PREFIX, DataProxyServiceImpl
from flyte.server._run_service import RunServiceImpl
from flyte.server._state import ServerState
from flyte.server._task_service import TaskServiceImpl
from flyte.server._upload import UploadHandler


# The generated protocols' methods all raise UNIMPLEMENTED; a subclass is an instance of them.
class _Queue(QueueService): ...


class _State(StateService): ...


class _Projects(ProjectService): ...


class _Secrets(SecretService): ...


class _Logs(RunLogsService): ...


class ServerApp:
    """Routes a request by its first path segment: ``/<package>.<Service>/<Method>`` or ``/upload/``."""

    def __init__(self, services: Mapping[str, App], uploads: App):
        self._services = dict(services)
        self._uploads = uploads

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await _lifespan(receive, send)
            return
        if scope["type"] != "http":
            return
        path: str = scope["path"]
        if path.startswith(UPLOAD_PREFIX):
            await self._uploads(scope, receive, send)
            return
        service = self._services.get("/" + path.lstrip("/").split("/", 1)[0])
        if service is None:
            await respond(send, 404, f"no service at {path}")
            return
        await service(scope, receive, send)


async def _lifespan(receive: Receive, send: Send) -> None:
    # The server's resources are opened and closed by serve(), around the ASGI server's life.
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            await send({"type": "lifespan.shutdown.complete"})
            return


def build_app(state: ServerState) -> ServerApp:
    """The application serving ``state``."""
    limit = state.config.max_message_bytes
    apps: list[ConnectASGIApplication[Any]] = [
        ClusterServiceASGIApplication(ClusterServiceImpl(), read_max_bytes=limit),
        DataProxyServiceASGIApplication(DataProxyServiceImpl(state), read_max_bytes=limit),
        RunServiceASGIApplication(RunServiceImpl(state), read_max_bytes=limit),
        TaskServiceASGIApplication(TaskServiceImpl(state), read_max_bytes=limit),
        QueueServiceASGIApplication(_Queue(), read_max_bytes=limit),
        StateServiceASGIApplication(_State(), read_max_bytes=limit),
        ProjectServiceASGIApplication(_Projects(), read_max_bytes=limit),
        SecretServiceASGIApplication(_Secrets(), read_max_bytes=limit),
        RunLogsServiceASGIApplication(_Logs(), read_max_bytes=limit),
    ]
    uploads = UploadHandler(state.layout, state.signer, state.config.max_upload_bytes)
    return ServerApp({app.path: cast("App", app) for app in apps}, uploads)
