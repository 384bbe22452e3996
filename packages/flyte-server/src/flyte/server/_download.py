"""``GET /download/<key>?expires=..&sig=..``: signed, expiring links to files of the data dir.

CreateDownloadLink signs a link to one file the server chose (an attempt's report, a task's code
bundle); the key is that file's path below the data dir, and only ``runs/`` and ``blobs/`` can be
linked, never the database or the keys. Refused: a key that could leave those folders (400), a
missing, wrong or expired signature (403), a file that is gone (404).
"""

from __future__ import annotations

import asyncio
import logging
import time
from pathlib import Path
from urllib.parse import parse_qs, quote, urlencode

from flyte.server._asgi import Receive, Scope, Send, respond
from flyte.server._signing import SignedRequest, UrlSigner

logger = logging.getLogger("flyte.server.download")

DOWNLOAD_PREFIX = "/download/"
LINKABLE = ("runs", "blobs")
_CHUNK = 1 << 20


def confined_key(root: Path, key: str) -> Path | None:
    """The file ``key`` names below ``root/runs`` or ``root/blobs``, or None if it could escape."""
    parts = key.split("/")
    if not key or any(p in ("", ".", "..") or "\\" in p or "\x00" in p for p in parts) or parts[0] not in LINKABLE:
        return None
    base = (root / parts[0]).resolve()
    path = root.joinpath(*parts).resolve()
    return path if path.is_relative_to(base) and path != base else None


def sign_download(signer: UrlSigner, base_url: str, root: Path, path: Path, expires: int) -> str:
    """A link to ``path`` (a file below ``root/runs`` or ``root/blobs``) valid until ``expires``."""
    key = path.resolve().relative_to(root.resolve()).as_posix()
    if confined_key(root, key) is None:
        raise ValueError(f"{path} is not a file that can be linked")
    signature = signer.sign(SignedRequest("GET", DOWNLOAD_PREFIX + key, expires))
    return f"{base_url}{DOWNLOAD_PREFIX}{quote(key)}?{urlencode({'expires': expires, 'sig': signature})}"


class DownloadHandler:
    """Serves signed download links from the data dir ``root``."""

    def __init__(self, root: Path, signer: UrlSigner):
        self._root = root
        self._signer = signer

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["method"] not in ("GET", "HEAD"):
            await respond(send, 405, "download links accept GET only", [(b"allow", b"GET, HEAD")])
            return
        # ASGI servers hand over the path percent-decoded already.
        key = scope["path"][len(DOWNLOAD_PREFIX) :]
        path = confined_key(self._root, key)
        if path is None:
            await self._refuse(send, key, 400, "the path leaves the folders downloads are served from")
            return
        params = parse_qs(scope.get("query_string", b"").decode("latin-1"))
        try:
            expires, signature = int(params["expires"][0]), params["sig"][0]
        except (KeyError, ValueError, IndexError):
            await self._refuse(send, key, 403, "the link is not signed: expected expires and sig parameters")
            return
        problem = self._signer.verify(SignedRequest("GET", DOWNLOAD_PREFIX + key, expires), signature, time.time())
        if problem is not None:
            await self._refuse(send, key, 403, problem)
            return
        if not path.is_file():
            await self._refuse(send, key, 404, "the file no longer exists")
            return
        await self._send_file(scope, send, path)

    async def _refuse(self, send: Send, key: str, status: int, reason: str) -> None:
        logger.info("download of %s refused: %s", key, reason)
        await respond(send, status, reason)

    async def _send_file(self, scope: Scope, send: Send, path: Path) -> None:
        size = (await asyncio.to_thread(path.stat)).st_size
        headers = [(b"content-type", b"application/octet-stream"), (b"content-length", str(size).encode())]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        if scope["method"] == "HEAD":
            await send({"type": "http.response.body", "body": b"", "more_body": False})
            return
        with open(path, "rb") as f:  # noqa: ASYNC230  (local disk, 1 MiB at a time)
            while chunk := f.read(_CHUNK):
                await send({"type": "http.response.body", "body": chunk, "more_body": True})
        await send({"type": "http.response.body", "body": b"", "more_body": False})
