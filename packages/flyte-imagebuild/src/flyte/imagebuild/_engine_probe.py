"""Does the Docker engine hold an image? One ``GET /images/<ref>/json`` over the engine's socket.

Standard library only, and the smallest part of it: importing the docker SDK alone takes about
half a second and ``http.client`` (with the email parser it pulls in) a few tens of
milliseconds, a sizeable share of a no-op rebuild's budget. The request is HTTP/1.0 (the engine
answers and closes the connection); only the status line is read. Builds, tags and pushes go
through the SDK (`DockerBuilder`).
"""

from __future__ import annotations

import os
import socket
from urllib.parse import quote, urlsplit

DEFAULT_HOST = "unix:///var/run/docker.sock"


def docker_host(explicit: str | None = None) -> str:
    """The engine address: ``explicit``, else ``$DOCKER_HOST``, else the default socket."""
    return explicit or os.environ.get("DOCKER_HOST") or DEFAULT_HOST


def _connect(host: str, timeout: float) -> socket.socket:
    parsed = urlsplit(host)
    if parsed.scheme == "unix":
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.settimeout(timeout)
        try:
            sock.connect(parsed.path)
        except OSError:
            sock.close()
            raise
        return sock
    if parsed.scheme in ("tcp", "http"):
        return socket.create_connection((parsed.hostname or "localhost", parsed.port or 2375), timeout=timeout)
    raise OSError(f"unsupported Docker host {host!r} (expected unix:// or tcp://)")


def engine_has_image(host: str, ref: str, timeout: float = 10.0) -> bool:
    """Whether the engine at ``host`` (``unix://`` or ``tcp://``) has an image named ``ref``.

    Raises:
        OSError: the engine cannot be reached, or answered something other than 200 or 404.
    """
    with _connect(host, timeout) as sock:
        sock.sendall(f"GET /images/{quote(ref, safe='/:@')}/json HTTP/1.0\r\nHost: docker\r\n\r\n".encode())
        head = b""
        while b"\r\n" not in head:
            chunk = sock.recv(4096)
            if not chunk:
                break
            head += chunk
    status_line = head.split(b"\r\n", 1)[0].decode("latin-1")
    parts = status_line.split()
    if len(parts) < 2 or not parts[0].startswith("HTTP/") or not parts[1].isdigit():
        raise OSError(f"the Docker engine at {host} did not answer an image lookup over HTTP: {status_line[:80]!r}")
    status = int(parts[1])
    if status not in (200, 404):
        raise OSError(f"the Docker engine at {host} answered {status} to an image lookup")
    return status == 200
