"""ImageService.GetImage: does the Docker engine the server runs actions on hold an image?

flyteidl2 2.0.51's ImageService has this one RPC. The request names an image by ``name:tag``
(the last path component of its repository, as the public SDK and flyte-imagebuild's ``remote``
builder ask); the answer is the first reference on the engine with that name and tag, e.g.
``127.0.0.1:5000/app:<hash>`` or ``app:<hash>``, else NOT_FOUND. The engine is ``$DOCKER_HOST``
(the Docker executor's); without the docker SDK (the ``docker`` extra) every call is
FAILED_PRECONDITION. Nothing is built here: there is no build RPC in the protocol.
"""

from __future__ import annotations

import asyncio
import os
from typing import Any

from connectrpc.code import Code
from connectrpc.errors import ConnectError
from connectrpc.request import RequestContext
from flyteidl2.imagebuilder import definition_pb2, payload_pb2
from flyteidl2.imagebuilder.service_connect import ImageService

from flyte.server._rpc_errors import failed_precondition, invalid_argument, not_found


class ImageServiceImpl(ImageService):
    """Looks images up on the Docker engine at ``base_url`` (default ``$DOCKER_HOST``)."""

    def __init__(self, base_url: str | None = None):
        self._base_url = base_url or os.environ.get("DOCKER_HOST") or None

    @property
    def engine(self) -> str:
        return self._base_url or "the local Docker engine"

    async def get_image(
        self, request: payload_pb2.GetImageRequest, ctx: RequestContext[Any, Any]
    ) -> payload_pb2.GetImageResponse:
        name = request.id.name
        if not name or name.endswith(":") or "/" in name:
            raise invalid_argument(f"id.name must be name:tag (no registry), got {name!r}")
        if ":" not in name:
            name += ":latest"
        fqin = await asyncio.to_thread(self._find, name)
        if fqin is None:
            raise not_found(f"image {name} is not on {self.engine}")
        return payload_pb2.GetImageResponse(image=definition_pb2.Image(id=request.id, fqin=fqin))

    def _find(self, name: str) -> str | None:
        try:
            import docker
        except ImportError:
            raise failed_precondition(
                "this server looks images up on its Docker engine: install flyte-server[docker]"
            ) from None
        try:
            client = docker.APIClient(base_url=self._base_url) if self._base_url else docker.from_env().api
        except docker.errors.DockerException as e:
            raise ConnectError(Code.UNAVAILABLE, f"cannot reach {self.engine}: {e}") from e
        try:
            images = client.images(filters={"dangling": False})
        except Exception as e:
            raise ConnectError(Code.UNAVAILABLE, f"cannot reach {self.engine}: {e}") from e
        finally:
            client.close()
        for image in images:
            for ref in image.get("RepoTags") or ():
                if ref == name or ref.endswith("/" + name):
                    return str(ref)
        return None
