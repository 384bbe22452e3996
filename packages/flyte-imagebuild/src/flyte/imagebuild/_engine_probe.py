"""Does the Docker engine hold an image? One ``GET /images/<ref>/json`` over the engine's socket.

Standard library only: importing the docker SDK alone takes about half a second, more than the
whole budget of a no-op rebuild. Builds, tags and pushes go through the SDK (`DockerBuilder`).
"""

from __future__ import annotations

import http.client
import os
import socket
import urllib.parse

DEFAULT_HOST = "unix:///var/run/docker.sock"


def docker_host(explicit: str | None = None) -> str:
    """The engine address: ``explicit``, else ``$DOCKER_HOST``, else the default socket."""
    return explicit or os.environ.get("DOCKER_HOST") or DEFAULT_HOST


class _UnixConnection(http.client.HTTPConnection):
    def __init__(self, path: str, timeout: float):
        super().__init__("localhost", timeout=timeout)
        self._path = path

    def connect(self) -> None:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.settimeout(self.timeout)
        sock.connect(self._path)
        self.sock = sock


def engine_has_image(host: str, ref: str, timeout: float = 10.0) -> bool:
    """Whether the engine at ``host`` (``unix://`` or ``tcp://``) has an image named ``ref``.

    Raises:
        OSError: the engine cannot be reached.
    """
    parsed = urllib.parse.urlparse(host)
    conn: http.client.HTTPConnection
    if parsed.scheme == "unix":
        conn = _UnixConnection(parsed.path, timeout)
    elif parsed.scheme in ("tcp", "http"):
        conn = http.client.HTTPConnection(parsed.hostname or "localhost", parsed.port or 2375, timeout=timeout)
    else:
        raise OSError(f"unsupported Docker host {host!r} (expected unix:// or tcp://)")
    try:
        conn.request("GET", f"/images/{urllib.parse.quote(ref, safe='/:@')}/json")
        response = conn.getresponse()
        response.read()
    finally:
        conn.close()
    if response.status not in (200, 404):
        raise OSError(f"the Docker engine at {host} answered {response.status} to an image lookup")
    return response.status == 200
