"""The ``remote`` builder: asks the backend whether it has an image, through flyteidl2's ImageService.

flyteidl2 2.0.51's ImageService has one RPC, ``GetImage``: the backend says whether it holds an
image (by ``name:tag``, the last path component of the repository, as the public SDK asks) and
under which fully qualified name. Building on the backend needs more than that protocol (a build
task the backend provides), so this builder does not build: an image the backend lacks is an
`ImageBuildError` that says how to make it available. The call is a Connect unary request over
HTTP (standard library only); no credentials are sent, so it suits the embedded server and other
unauthenticated endpoints.

Settings: ``RemoteBuilder(endpoint, insecure=, org=, project=, domain=)``, or
``$FLYTE_IMAGEBUILD_ENDPOINT`` (``host:port``, ``dns:///host:port`` or an ``http(s)://`` URL),
``$FLYTE_IMAGEBUILD_INSECURE`` (``1``: plain HTTP; the default for loopback hosts),
``$FLYTE_PROJECT``, ``$FLYTE_DOMAIN``, ``$FLYTE_ORG``.
"""

from __future__ import annotations

import asyncio
import json
import os
import urllib.error
import urllib.parse
import urllib.request
from typing import TYPE_CHECKING

from flyte.imagebuild._builder import ImageBuild
from flyte.imagebuild._errors import image_build_error

if TYPE_CHECKING:
    from flyte.imagebuild._image import Image

GET_IMAGE = "/flyteidl2.imagebuilder.ImageService/GetImage"
ENDPOINT_ENV = "FLYTE_IMAGEBUILD_ENDPOINT"
_LOOPBACK = ("localhost", "127.0.0.1", "::1")


def _base_url(endpoint: str, insecure: bool | None) -> str:
    endpoint = endpoint.strip()
    if endpoint.startswith("dns:///"):
        endpoint = endpoint[len("dns:///") :]
    if endpoint.startswith(("http://", "https://")):
        return endpoint.rstrip("/")
    host = urllib.parse.urlsplit(f"//{endpoint}").hostname or ""
    if insecure is None:
        insecure = host in _LOOPBACK or host.startswith("127.")
    return f"{'http' if insecure else 'https'}://{endpoint.rstrip('/')}"


class RemoteBuilder:
    """``"remote"``: an image exists when the backend's ImageService has it; nothing is built here.

    Raises:
        ValueError: no endpoint given and ``$FLYTE_IMAGEBUILD_ENDPOINT`` is not set.
    """

    def __init__(
        self,
        endpoint: str | None = None,
        *,
        insecure: bool | None = None,
        org: str | None = None,
        project: str | None = None,
        domain: str | None = None,
        timeout: float = 10.0,
    ):
        endpoint = endpoint or os.environ.get(ENDPOINT_ENV)
        if not endpoint:
            raise ValueError(
                f"the remote builder needs a backend: pass RemoteBuilder(endpoint=...) or set ${ENDPOINT_ENV}"
            )
        if insecure is None and os.environ.get("FLYTE_IMAGEBUILD_INSECURE"):
            insecure = os.environ["FLYTE_IMAGEBUILD_INSECURE"] not in ("0", "false", "")
        self.endpoint = endpoint
        self.url = _base_url(endpoint, insecure)
        self.org = org if org is not None else os.environ.get("FLYTE_ORG", "")
        self.project = project if project is not None else os.environ.get("FLYTE_PROJECT", "")
        self.domain = domain if domain is not None else os.environ.get("FLYTE_DOMAIN", "")
        self.timeout = timeout

    def record_scope(self) -> str:
        return f"remote:{self.url}"

    async def build_image(self, image: Image, dry_run: bool = False, force: bool = False) -> ImageBuild:
        uri = await asyncio.to_thread(lambda: image.uri)
        if dry_run:
            return ImageBuild(uri, built=False, dockerfile=image._plan.dockerfile(False))
        where = f"remote builder {self.url}"
        if force:
            raise image_build_error(uri, where, "cannot rebuild (force): the backend's ImageService does not build")
        name = uri.rsplit("/", 1)[-1]  # name:tag, without the registry
        fqin = await asyncio.to_thread(self.get_image, name, uri)
        if fqin is None:
            raise image_build_error(
                uri,
                where,
                f"the backend has no image {name} and cannot be asked to build one (flyteidl2's ImageService "
                "offers GetImage only); build it with the local builder where the backend's tasks find it "
                "(FLYTE_IMAGE_BUILDER=local with DOCKER_HOST set to the backend's engine, or a registry= the "
                "backend pulls from), then run again",
            )
        return ImageBuild(fqin, built=False, found_in="backend")

    def get_image(self, name: str, uri: str) -> str | None:
        """The backend's fully qualified name of image ``name`` (``name:tag``), None when it lacks it.

        Raises:
            flyte.errors.ImageBuildError: the backend cannot be reached, has no ImageService, or
                answered with another error.
        """
        from flyteidl2.common import identifier_pb2
        from flyteidl2.imagebuilder import definition_pb2, payload_pb2

        where = f"remote builder {self.url}"
        request = payload_pb2.GetImageRequest(
            id=definition_pb2.ImageIdentifier(name=name),
            organization=self.org,
            project_id=identifier_pb2.ProjectIdentifier(organization=self.org, name=self.project, domain=self.domain),
        )
        http = urllib.request.Request(
            self.url + GET_IMAGE,
            data=request.SerializeToString(),
            method="POST",
            headers={"Content-Type": "application/proto", "Connect-Protocol-Version": "1"},
        )
        try:
            with urllib.request.urlopen(http, timeout=self.timeout) as response:
                body = response.read()
        except urllib.error.HTTPError as e:
            code, message = _connect_error(e)
            if code == "not_found":
                return None
            if code == "unimplemented" or (e.code == 404 and code is None):
                raise image_build_error(
                    uri, where, f"the backend has no ImageService (HTTP {e.code}); use the local builder"
                ) from e
            raise image_build_error(uri, where, f"GetImage failed: {code or e.code}: {message}") from e
        except (urllib.error.URLError, OSError) as e:
            reason = getattr(e, "reason", e)
            raise image_build_error(uri, where, f"cannot reach the backend: {reason}") from e
        found = payload_pb2.GetImageResponse.FromString(body).image
        return found.fqin or name


def _connect_error(e: urllib.error.HTTPError) -> tuple[str | None, str]:
    """The Connect error code and message of an error response (None when it is not one)."""
    try:
        document = json.loads(e.read() or b"{}")
    except ValueError:
        return None, str(e.reason)
    if not isinstance(document, dict) or "code" not in document:
        return None, str(e.reason)
    return str(document["code"]), str(document.get("message", ""))
