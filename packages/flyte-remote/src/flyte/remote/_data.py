"""``upload_file`` / ``upload_dir``: CreateUploadLocation, then a plain HTTP PUT to the signed URL."""

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


async def upload_file_in(session: Session, path: Path, filename: str | None = None, root: str = "") -> str:
    """Upload ``path`` to ``session``'s backend; returns the stored file's native URI.

    ``filename`` (default: the file's name) may hold ``/``-separated folders; ``root`` names the
    folder it goes under (default: one named by the content's MD5).
    """
    from flyteidl2.dataproxy import dataproxy_service_pb2

    data = await asyncio.to_thread(path.read_bytes)
    md5 = hashlib.md5(data).digest()
    await check_reachable(session)
    location = await clients_for(session).dataproxy_service.CreateUploadLocation(
        dataproxy_service_pb2.CreateUploadLocationRequest(
            org=session.org,
            project=session.project,
            domain=session.domain,
            filename=filename or path.name,
            filename_root=root,
            content_md5=md5,
            content_length=len(data),
        )
    )
    headers = {"Content-MD5": b64encode(md5).decode(), **dict(location.headers)}
    await asyncio.to_thread(_put, location.signed_url, data, headers)
    return str(location.native_url)


def _files_under(folder: Path) -> list[tuple[Path, str]]:
    return sorted((p, p.relative_to(folder).as_posix()) for p in folder.rglob("*") if p.is_file())


def _folder_digest(files: list[tuple[Path, str]]) -> str:
    """Names the upload folder: the same files (names and contents) land in the same folder."""
    digest = hashlib.md5()
    for path, rel in files:
        digest.update(rel.encode() + b"\0" + hashlib.md5(path.read_bytes()).digest())
    return digest.hexdigest()


async def upload_dir_in(session: Session, folder: Path, concurrency: int = 4) -> str:
    """Upload every file below ``folder``, keeping the layout; returns the remote folder's URI."""
    if not await asyncio.to_thread(folder.is_dir):
        raise NotADirectoryError(f"upload_dir needs a folder, {folder} is not one")
    files = await asyncio.to_thread(_files_under, folder)
    if not files:
        raise ValueError(f"{folder} holds no files to upload")
    root = await asyncio.to_thread(_folder_digest, files)
    limit = asyncio.Semaphore(concurrency)

    async def one(path: Path, rel: str) -> str:
        async with limit:
            return await upload_file_in(session, path, rel, root)

    uris = await asyncio.gather(*(one(path, rel) for path, rel in files))
    first_uri, first_rel = uris[0], files[0][1]
    if not first_uri.endswith("/" + first_rel):
        raise RuntimeError(f"the backend stored {first_rel} at {first_uri}, not below one folder")
    return first_uri[: -len(first_rel) - 1]


@syncify
async def upload_file(path: str | Path) -> str:
    """Upload a local file to the configured backend; returns its remote URI.

    Example:
        >>> uri = flyte.remote.upload_file("data.csv")  # doctest: +SKIP
    """
    return await upload_file_in(current_session(), Path(path))


@syncify
async def upload_dir(path: str | Path) -> str:
    """Upload a local folder (every file below it, keeping the layout); returns its remote URI.

    Example:
        >>> uri = flyte.remote.upload_dir("data/")  # doctest: +SKIP
    """
    return await upload_dir_in(current_session(), Path(path))
