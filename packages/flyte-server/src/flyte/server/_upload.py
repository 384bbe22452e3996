"""``PUT /upload/<key>?expires=..&md5=..&sig=..``: where signed upload URLs land.

Refused before anything is written: a key that could leave the blob folder (400), a missing,
wrong or expired signature (403), a body over the limit (413) or one whose MD5 is not the signed
one (400). The file appears whole or not at all (flyte.storage writes to a temporary name and
renames).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import logging
import time
from urllib.parse import parse_qs

import flyte.storage as storage
from flyte.server._asgi import Receive, Scope, Send, body_chunks, header, respond
from flyte.server._dataproxy_service import UPLOAD_PREFIX
from flyte.server._layout import DataLayout
from flyte.server._signing import SignedRequest, UrlSigner

logger = logging.getLogger("flyte.server.upload")


class _Refused(Exception):
    def __init__(self, status: int, reason: str):
        super().__init__(reason)
        self.status = status
        self.reason = reason


class UploadHandler:
    """Serves signed upload URLs into ``layout.blobs``."""

    def __init__(self, layout: DataLayout, signer: UrlSigner, max_bytes: int):
        self._layout = layout
        self._signer = signer
        self._max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["method"] != "PUT":
            await respond(send, 405, "signed URLs accept PUT only", [(b"allow", b"PUT")])
            return
        try:
            await self._put(scope, receive)
        except _Refused as e:
            logger.info("upload to %s refused: %s", scope["path"], e.reason)
            await respond(send, e.status, e.reason)
            return
        await respond(send, 200)

    async def _put(self, scope: Scope, receive: Receive) -> None:
        path: str = scope["path"]
        key = path[len(UPLOAD_PREFIX) :]
        target = self._layout.confined_blob_key(key)
        if target is None:
            raise _Refused(400, "the path leaves the upload folder")
        params = parse_qs(scope.get("query_string", b"").decode("latin-1"))
        try:
            expires = int(params["expires"][0])
            signature = params["sig"][0]
            md5 = params.get("md5", [""])[0]
        except (KeyError, ValueError, IndexError):
            raise _Refused(403, "the URL is not signed: expected expires, md5 and sig parameters") from None
        problem = self._signer.verify(SignedRequest("PUT", UPLOAD_PREFIX + key, expires, md5), signature, time.time())
        if problem is not None:
            raise _Refused(403, problem)
        if md5 and (declared := header(scope, b"content-md5")) is not None and _b64_to_hex(declared) != md5:
            raise _Refused(400, "the Content-MD5 header is not the MD5 this URL was signed for")
        length = header(scope, b"content-length")
        if length is not None and length.isdigit() and int(length) > self._max_bytes:
            raise _Refused(413, f"the body is larger than this server's limit of {self._max_bytes} bytes")
        await self._store(str(target), receive, md5)

    async def _store(self, target: str, receive: Receive, md5: str) -> None:
        digest, size = hashlib.md5(), 0
        writer = await storage.open(target, "wb")
        try:
            async for chunk in body_chunks(receive):
                size += len(chunk)
                if size > self._max_bytes:
                    raise _Refused(413, f"the body is larger than this server's limit of {self._max_bytes} bytes")
                digest.update(chunk)
                await writer.write(chunk)
            if md5 and digest.hexdigest() != md5:
                raise _Refused(400, "the body's MD5 is not the one this URL was signed for")
        except BaseException:
            await writer.discard()
            raise
        await writer.close()


def _b64_to_hex(value: str) -> str:
    try:
        return base64.b64decode(value, validate=True).hex()
    except (binascii.Error, ValueError):
        return ""
