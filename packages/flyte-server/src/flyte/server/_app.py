"""The one ASGI application behind the port: every flyteidl2 service (Connect, gRPC and gRPC-Web
through connectrpc) plus the signed upload and download endpoints.

RPCs a service does not implement answer UNIMPLEMENTED in the client's protocol (the generated
defaults); an unknown path answers 404, which Connect and gRPC clients also read as UNIMPLEMENTED.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, cast

from connectrpc.server import ConnectASGIApplication
from flyteidl2.cluster.service_connect import ClusterServiceASGIApplication
from flyteidl2.dataproxy.dataproxy_service_connect import DataProxyServiceASGIApplication
from flyteidl2.imagebuilder.service_connect import ImageServiceASGIApplication
from flyteidl2.project.project_service_connect import ProjectServiceASGIApplication
from flyteidl2.secret.secret_connect import SecretServiceASGIApplication
from flyteidl2.task.task_service_connect import TaskServiceASGIApplication
from flyteidl2.workflow.queue_service_connect import QueueServiceASGIApplication
from flyteidl2.workflow.run_logs_service_connect import RunLogsServiceASGIApplication
from flyteidl2.workflow.run_service_connect import RunServiceASGIApplication
from flyteidl2.workflow.state_service_connect import StateServiceASGIApplication

from flyte.server._asgi import App, Receive, Scope, Send, respond
from flyte.server._cluster_service import ClusterServiceImpl
from flyte.server._dataproxy_service import UPLOAD_PREFIX, DataProxyServiceImpl
from flyte.server._download import DOWNLOAD_PREFIX, DownloadHandler
from flyte.server._image_service import ImageServiceImpl
from flyte.server._logs import RunLogsServiceImpl
from flyte.server._project_service import ProjectServiceImpl
from flyte.server._queue_service import QueueServiceImpl
from flyte.server._run_service import RunServiceImpl
from flyte.server._secret_service import SecretServiceImpl
from flyte.server._secrets import SecretCipher, SecretStore
from flyte.server._state import ServerState
from flyte.server._state_service import ChildEvents, StateServiceImpl
from flyte.server._task_service import TaskServiceImpl
from flyte.server._upload import UploadHandler


class ServerApp:
    """Routes a request by its first path segment: ``/<package>.<Service>/<Method>``, ``/upload/``
    or ``/download/``."""

    def __init__(self, services: Mapping[str, App], uploads: App, downloads: App):
        self._services = dict(services)
        self._uploads = uploads
        self._downloads = downloads

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
        if path.startswith(DOWNLOAD_PREFIX):
            await self._downloads(scope, receive, send)
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
    children = ChildEvents(state.events)
    secrets = SecretStore(state.store.db, SecretCipher.for_data_dir(state.layout.root))
    apps: list[ConnectASGIApplication[Any]] = [
        ClusterServiceASGIApplication(ClusterServiceImpl(), read_max_bytes=limit),
        DataProxyServiceASGIApplication(DataProxyServiceImpl(state), read_max_bytes=limit),
        RunServiceASGIApplication(RunServiceImpl(state), read_max_bytes=limit),
        TaskServiceASGIApplication(TaskServiceImpl(state), read_max_bytes=limit),
        QueueServiceASGIApplication(QueueServiceImpl(state, children), read_max_bytes=limit),
        StateServiceASGIApplication(StateServiceImpl(state, children), read_max_bytes=limit),
        ProjectServiceASGIApplication(ProjectServiceImpl(state), read_max_bytes=limit),
        SecretServiceASGIApplication(SecretServiceImpl(state, secrets), read_max_bytes=limit),
        RunLogsServiceASGIApplication(RunLogsServiceImpl(state), read_max_bytes=limit),
        ImageServiceASGIApplication(ImageServiceImpl(), read_max_bytes=limit),
    ]
    uploads = UploadHandler(state.layout, state.signer, state.config.max_upload_bytes)
    downloads = DownloadHandler(state.layout.root, state.signer)
    return ServerApp({app.path: cast("App", app) for app in apps}, uploads, downloads)
