"""``upload_file`` / ``upload_dir``: CreateUploadLocation, then a plain HTTP PUT to the signed URL.

Files are streamed: the MD5 is computed and the PUT body sent in chunks of :data:`CHUNK_BYTES`,
so memory stays bounded whatever the file's size. Progress reaches two kinds of listener:

* a ``progress(done, total)`` callback given to one call (``upload_file_in(..., progress=cb)``);
* a process-wide :func:`transfer_progress` hook that a front end (the ``flyte`` CLI) installs
  for the duration of a command. It is a plain module global, not a contextvar, because
  ``flyte.syncify`` runs the upload coroutines on a background loop thread and the PUTs on
  worker threads, where a contextvar set in the caller's thread would not be visible.
"""

from __future__ import annotations

import asyncio
import hashlib
import http.client
import threading
import urllib.request
from base64 import b64encode
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from pathlib import Path
from urllib.parse import unquote, urlsplit

from flyte.remote._session import Session, check_reachable, clients_for, current_session
from flyte.syncify import syncify

_PUT_TIMEOUT_S = 300
CHUNK_BYTES = 1 << 20  # 1 MiB: what one read and one socket send handle at a time

ProgressCallback = Callable[[int, int], None]
"""``progress(done, total)``: bytes sent so far and bytes to send in all."""

TransferHook = Callable[[str, int], AbstractContextManager[Callable[[int], None]]]
"""``hook(description, total_bytes)`` -> a context manager giving ``advance(nbytes)``; it is
entered when a transfer starts and left when it ends (also on failure)."""

_hook: TransferHook | None = None
_hook_lock = threading.Lock()


@contextmanager
def transfer_progress(hook: TransferHook | None) -> Iterator[None]:
    """Make ``hook`` observe every upload this process starts until the block ends.

    The hook is process-wide (threads and the syncify loop included); the previous one comes
    back afterwards. ``None`` turns progress reporting off for the block.

    Example:
        >>> from contextlib import contextmanager
        >>> @contextmanager
        ... def printer(description, total):
        ...     yield lambda n: None
        >>> with transfer_progress(printer):
        ...     pass
    """
    global _hook
    with _hook_lock:
        previous, _hook = _hook, hook
    try:
        yield
    finally:
        with _hook_lock:
            _hook = previous


def _observed(
    description: str, total: int, progress: ProgressCallback | None
) -> AbstractContextManager[Callable[[int], None]]:
    """One transfer's ``advance(nbytes)``: feeds ``progress`` and the installed hook, thread-safely."""
    hook = _hook

    @contextmanager
    def observe() -> Iterator[Callable[[int], None]]:
        lock = threading.Lock()
        done = 0
        with hook(description, total) if hook is not None else nullcontext(None) as hook_advance:

            def advance(nbytes: int) -> None:
                nonlocal done
                with lock:
                    done += nbytes
                    current = done
                    if progress is not None:
                        progress(current, total)
                    if hook_advance is not None:
                        hook_advance(nbytes)

            if progress is not None:
                progress(0, total)
            yield advance

    return observe()


def file_md5(path: Path) -> bytes:
    """The MD5 digest of ``path``'s content, read in chunks."""
    digest = hashlib.md5()
    with path.open("rb") as f:
        while chunk := f.read(CHUNK_BYTES):
            digest.update(chunk)
    return digest.digest()


def _chunks(path: Path, size: int, advance: Callable[[int], None]) -> Iterator[bytes]:
    sent = 0
    with path.open("rb") as f:
        while chunk := f.read(CHUNK_BYTES):
            sent += len(chunk)
            if sent > size:
                raise RuntimeError(f"{path} grew while it was being uploaded ({size} bytes expected)")
            yield chunk
            advance(len(chunk))
    if sent != size:
        raise RuntimeError(f"{path} changed size while it was being uploaded ({sent} of {size} bytes)")


def _failure(url: str, what: str) -> RuntimeError:
    return RuntimeError(f"uploading to {url.split('?', 1)[0]} failed: {what}")


def _connection(url: str) -> tuple[http.client.HTTPConnection, str]:
    """A connection for ``url`` and the request target to send on it, through the proxy the
    environment names for its scheme (``HTTPS_PROXY``, ``HTTP_PROXY``, minus ``NO_PROXY``), as
    urllib would: a CONNECT tunnel for https, the absolute URL for http."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    conn_type = http.client.HTTPSConnection if parts.scheme == "https" else http.client.HTTPConnection
    proxy = urllib.request.getproxies().get(parts.scheme)
    if not proxy or urllib.request.proxy_bypass(host):
        return conn_type(host, parts.port, timeout=_PUT_TIMEOUT_S), target
    via = urlsplit(proxy if "://" in proxy else f"http://{proxy}")
    auth = {}
    if via.username:
        credentials = f"{unquote(via.username)}:{unquote(via.password or '')}".encode()
        auth["Proxy-Authorization"] = "Basic " + b64encode(credentials).decode()
    if parts.scheme == "https":
        conn = http.client.HTTPSConnection(via.hostname or "", via.port or 8080, timeout=_PUT_TIMEOUT_S)
        conn.set_tunnel(host, parts.port or 443, headers=auth)
        return conn, target
    return _ProxiedHTTPConnection(via.hostname or "", via.port or 8080, _PUT_TIMEOUT_S, auth), url


class _ProxiedHTTPConnection(http.client.HTTPConnection):
    """Plain HTTP through a forward proxy: absolute-URL targets, plus the proxy's credentials."""

    def __init__(self, host: str, port: int, timeout: float, proxy_headers: dict[str, str]):
        super().__init__(host, port, timeout=timeout)
        self.proxy_headers = proxy_headers

    def endheaders(self, message_body: object = None, *, encode_chunked: bool = False) -> None:
        for name, value in self.proxy_headers.items():
            self.putheader(name, value)
        super().endheaders(message_body, encode_chunked=encode_chunked)  # type: ignore[arg-type]


def _put(url: str, path: Path, size: int, headers: dict[str, str], advance: Callable[[int], None]) -> None:
    """PUT ``path``'s ``size`` bytes to ``url`` in chunks, calling ``advance`` after each one."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise _failure(url, f"the backend gave an upload URL that is not http(s): {parts.scheme or '(none)'}://")
    conn, target = _connection(url)
    try:
        try:
            conn.putrequest("PUT", target, skip_accept_encoding=True)
            for name, value in {**headers, "Content-Length": str(size)}.items():
                conn.putheader(name, value)
            conn.endheaders()
            for chunk in _chunks(path, size, advance):
                conn.send(chunk)
        except OSError as e:
            # The server may answer (403, 413, ...) and close before reading the whole body:
            # its answer explains the failure better than the broken pipe does.
            try:
                response = conn.getresponse()
            except (OSError, http.client.HTTPException):
                raise _failure(url, f"{type(e).__name__}: {e}") from e
        else:
            try:
                response = conn.getresponse()
            except (OSError, http.client.HTTPException) as e:
                raise _failure(url, f"no answer ({type(e).__name__}: {e})") from e
        status = int(response.status)
        body = response.read(500).decode("utf-8", "replace")
    finally:
        conn.close()
    if status not in (200, 201, 204):
        raise _failure(url, f"HTTP {status} {body}".rstrip())


async def _upload(
    session: Session,
    path: Path,
    filename: str,
    root: str,
    md5: bytes,
    size: int,
    advance: Callable[[int], None],
) -> str:
    from flyteidl2.dataproxy import dataproxy_service_pb2

    location = await clients_for(session).dataproxy_service.CreateUploadLocation(
        dataproxy_service_pb2.CreateUploadLocationRequest(
            org=session.org,
            project=session.project,
            domain=session.domain,
            filename=filename,
            filename_root=root,
            content_md5=md5,
            content_length=size,
        )
    )
    headers = {"Content-MD5": b64encode(md5).decode(), **dict(location.headers)}
    await asyncio.to_thread(_put, location.signed_url, path, size, headers, advance)
    return str(location.native_url)


async def upload_file_in(
    session: Session,
    path: Path,
    filename: str | None = None,
    root: str = "",
    *,
    progress: ProgressCallback | None = None,
) -> str:
    """Upload ``path`` to ``session``'s backend; returns the stored file's native URI.

    ``filename`` (default: the file's name) may hold ``/``-separated folders; ``root`` names the
    folder it goes under (default: one named by the content's MD5). The file is streamed in
    chunks; ``progress(done, total)`` (and the :func:`transfer_progress` hook) follow the PUT.
    """
    size = (await asyncio.to_thread(path.stat)).st_size
    md5 = await asyncio.to_thread(file_md5, path)
    await check_reachable(session)
    with _observed(f"Uploading {path.name}", size, progress) as advance:
        return await _upload(session, path, filename or path.name, root, md5, size, advance)


def _files_under(folder: Path) -> list[tuple[Path, str, int]]:
    return sorted((p, p.relative_to(folder).as_posix(), p.stat().st_size) for p in folder.rglob("*") if p.is_file())


def _digests(files: list[tuple[Path, str, int]]) -> tuple[str, list[bytes]]:
    """Each file's MD5, and the folder's name: the same files (names and contents) land in the
    same folder."""
    folder = hashlib.md5()
    md5s = []
    for path, rel, _ in files:
        md5 = file_md5(path)
        md5s.append(md5)
        folder.update(rel.encode() + b"\0" + md5)
    return folder.hexdigest(), md5s


async def upload_dir_in(
    session: Session,
    folder: Path,
    concurrency: int = 4,
    *,
    progress: ProgressCallback | None = None,
) -> str:
    """Upload every file below ``folder``, keeping the layout; returns the remote folder's URI.

    ``progress(done, total)`` (and the :func:`transfer_progress` hook) see the bytes of all the
    files together.
    """
    if not await asyncio.to_thread(folder.is_dir):
        raise NotADirectoryError(f"upload_dir needs a folder, {folder} is not one")
    files = await asyncio.to_thread(_files_under, folder)
    if not files:
        raise ValueError(f"{folder} holds no files to upload")
    root, md5s = await asyncio.to_thread(_digests, files)
    await check_reachable(session)
    limit = asyncio.Semaphore(concurrency)
    total = sum(size for _, _, size in files)

    with _observed(f"Uploading {folder.name}/ ({len(files)} files)", total, progress) as advance:

        async def one(path: Path, rel: str, size: int, md5: bytes) -> str:
            async with limit:
                return await _upload(session, path, rel, root, md5, size, advance)

        uris = await asyncio.gather(*(one(p, rel, size, md5) for (p, rel, size), md5 in zip(files, md5s, strict=True)))
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
