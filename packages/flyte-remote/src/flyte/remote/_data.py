"""``upload_file``: CreateUploadLocation, then a plain HTTP PUT to the signed URL."""

from __future__ import annotations

import asyncio
import hashlib
import urllib.error
import urllib.request
from base64 import b64encode
from pathlib import Path

from flyte.remote._session import Session, check_reachable, clients_for, current_session
from flyte.syncify import syncify

_PUT_TIMEOUT_S = 300


def _put(url: str, data: bytes, headers: dict[str, str]) -> None:
    request = urllib.request.Request(url, data=data, method="PUT", headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=_PUT_TIMEOUT_S) as response:
            status = int(response.status)
    except urllib.error.HTTPError as e:
        body = e.read()[:500].decode("utf-8", "replace")
        raise RuntimeError(f"uploading to {url.split('?', 1)[0]} failed: HTTP {e.code} {body}") from e
    if status not in (200, 201, 204):
        raise RuntimeError(f"uploading to {url.split('?', 1)[0]} failed: HTTP {status}")


async def upload_file_in(session: Session, path: Path) -> str:
    """Upload ``path`` to ``session``'s backend; returns the stored file's native URI."""
    from flyteidl2.dataproxy import dataproxy_service_pb2

    data = await asyncio.to_thread(path.read_bytes)
    md5 = hashlib.md5(data).digest()
    await check_reachable(session)
    location = await clients_for(session).dataproxy_service.CreateUploadLocation(
        dataproxy_service_pb2.CreateUploadLocationRequest(
            org=session.org,
            project=session.project,
            domain=session.domain,
            filename=path.name,
            content_md5=md5,
            content_length=len(data),
        )
    )
    headers = {"Content-MD5": b64encode(md5).decode(), **dict(location.headers)}
    await asyncio.to_thread(_put, location.signed_url, data, headers)
    return str(location.native_url)


@syncify
async def upload_file(path: str | Path) -> str:
    """Upload a local file to the configured backend; returns its remote URI.

    Example:
        >>> uri = flyte.remote.upload_file("data.csv")  # doctest: +SKIP
    """
    return await upload_file_in(current_session(), Path(path))
