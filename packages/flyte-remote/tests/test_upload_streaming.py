"""Streaming uploads against a real loopback backend: a grpc server answering SelectCluster and
CreateUploadLocation, and an HTTP server taking the PUT (both in this process, on 127.0.0.1).

The HTTP side checks what a real signed-URL endpoint checks (signature, Content-Length,
Content-MD5) and records how the body arrived, so the tests see chunked, bounded-memory sends.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import http.server
import os
import threading
import tracemalloc
from collections.abc import Callable, Iterator
from concurrent import futures
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import parse_qs, quote, urlsplit

import grpc
import pytest
from flyteidl2.cluster import payload_pb2, service_pb2_grpc
from flyteidl2.dataproxy import dataproxy_service_pb2, dataproxy_service_pb2_grpc

import flyte.remote
from flyte.remote import _data

_KEY = b"test-signing-key"


def _sign(path: str, md5_b64: str) -> str:
    return hmac.new(_KEY, f"{path}|{md5_b64}".encode(), "sha256").hexdigest()


@dataclass
class _Store:
    root: Path
    puts: list[dict[str, object]] = field(default_factory=list)


class _PutHandler(http.server.BaseHTTPRequestHandler):
    store: _Store

    def log_message(self, format: str, *args: object) -> None:
        pass

    def do_PUT(self) -> None:
        url = urlsplit(self.path)
        sig = parse_qs(url.query).get("sig", [""])[0]
        declared_md5 = self.headers.get("Content-MD5", "")
        if not hmac.compare_digest(sig, _sign(url.path, declared_md5)):
            # Answer at once, without reading the body: as a real endpoint does for a bad signature.
            self._answer(403, b"the signature does not match")
            return
        length = int(self.headers["Content-Length"])
        digest = hashlib.md5()
        reads = 0
        remaining = length
        target = self.store.root / url.path.lstrip("/")
        target.parent.mkdir(parents=True, exist_ok=True)
        with target.open("wb") as f:
            while remaining:
                chunk = self.rfile.read(min(remaining, 256 * 1024))
                if not chunk:
                    break
                reads += 1
                remaining -= len(chunk)
                digest.update(chunk)
                f.write(chunk)
        if base64.b64encode(digest.digest()).decode() != declared_md5:
            self._answer(400, b"the body's MD5 is not the declared one")
            return
        self.store.puts.append({"path": url.path, "length": length, "reads": reads})
        self._answer(201, b"")

    def _answer(self, status: int, body: bytes) -> None:
        self.send_response(status)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(body)


class _Cluster(service_pb2_grpc.ClusterServiceServicer):
    def SelectCluster(self, request: object, context: object) -> payload_pb2.SelectClusterResponse:
        return payload_pb2.SelectClusterResponse()


class _DataProxy(dataproxy_service_pb2_grpc.DataProxyServiceServicer):
    def __init__(self, http_base: str, store: _Store):
        self.http_base = http_base
        self.store = store
        self.tamper = False  # hand out URLs whose signature is wrong

    def CreateUploadLocation(
        self, request: dataproxy_service_pb2.CreateUploadLocationRequest, context: object
    ) -> dataproxy_service_pb2.CreateUploadLocationResponse:
        root = request.filename_root or request.content_md5.hex()
        path = f"/{root}/{quote(request.filename)}"
        md5_b64 = base64.b64encode(request.content_md5).decode()
        sig = ("0" if self.tamper else "") + _sign(path, md5_b64)
        return dataproxy_service_pb2.CreateUploadLocationResponse(
            signed_url=f"{self.http_base}{path}?sig={sig}",
            native_url=f"file://{self.store.root}{path}",
        )


@dataclass
class Backend:
    endpoint: str
    store: _Store
    data_proxy: _DataProxy


@pytest.fixture
def backend(tmp_path: Path) -> Iterator[Backend]:
    store = _Store(tmp_path / "stored")
    handler = type("Handler", (_PutHandler,), {"store": store})
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    http_thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    http_thread.start()
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=4))
    proxy = _DataProxy(f"http://127.0.0.1:{httpd.server_address[1]}", store)
    service_pb2_grpc.add_ClusterServiceServicer_to_server(_Cluster(), server)
    dataproxy_service_pb2_grpc.add_DataProxyServiceServicer_to_server(proxy, server)
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    endpoint = f"127.0.0.1:{port}"
    flyte.remote.configure(endpoint, insecure=True, project="p", domain="d")
    try:
        yield Backend(endpoint, store, proxy)
    finally:
        server.stop(0)
        httpd.shutdown()
        httpd.server_close()


def _random_file(path: Path, size: int) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("wb") as f:
        left = size
        while left:
            n = min(left, 1 << 20)
            f.write(os.urandom(n))
            left -= n
    return path


def _stored(backend: Backend, uri: str) -> Path:
    return Path(uri.removeprefix("file://"))


def test_a_multi_mib_file_streams_in_chunks_with_progress_totals_matching_its_size(backend: Backend, tmp_path: Path):
    size = 9 * 1024 * 1024 + 123
    source = _random_file(tmp_path / "big.bin", size)
    seen: list[tuple[int, int]] = []

    tracemalloc.start()
    try:
        from flyte.syncify import syncify

        @syncify
        async def go() -> str:
            return await _data.upload_file_in(
                flyte.remote.current_session(), source, progress=lambda d, t: seen.append((d, t))
            )

        uri = go()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()

    assert _stored(backend, uri).read_bytes() == source.read_bytes()
    assert seen[0] == (0, size)
    assert seen[-1] == (size, size)
    assert all(t == size for _, t in seen)
    assert [d for d, _ in seen] == sorted(d for d, _ in seen)
    assert len(seen) >= size // _data.CHUNK_BYTES  # one report per chunk, not one at the end
    (put,) = backend.store.puts
    assert put["length"] == size
    # Bounded memory: a few chunks in flight, never the whole 9 MiB file.
    assert peak < 4 * _data.CHUNK_BYTES, f"peak traced memory {peak} bytes"


def test_the_installed_hook_sees_uploads_started_on_the_syncify_loop_thread(backend: Backend, tmp_path: Path):
    size = 3 * 1024 * 1024
    source = _random_file(tmp_path / "f.bin", size)
    events: list[tuple[str, object]] = []
    threads: set[str] = set()

    @contextmanager
    def hook(description: str, total: int) -> Iterator[Callable[[int], None]]:
        events.append(("start", (description, total)))

        def advance(n: int) -> None:
            threads.add(threading.current_thread().name)
            events.append(("advance", n))

        yield advance
        events.append(("end", None))

    with _data.transfer_progress(hook):
        uri = flyte.remote.upload_file(source)
    flyte.remote.upload_file(source)  # the hook is gone after the block

    assert _stored(backend, uri).read_bytes() == source.read_bytes()
    assert events[0] == ("start", ("Uploading f.bin", size))
    assert events[-1] == ("end", None)
    assert sum(n for kind, n in events if kind == "advance") == size  # type: ignore[misc]
    assert len([e for e in events if e[0] == "start"]) == 1
    assert threading.current_thread().name not in threads  # it ran elsewhere and still reached the hook


def test_upload_dir_reports_aggregate_progress_across_its_files(backend: Backend, tmp_path: Path):
    folder = tmp_path / "data"
    sizes = {"a.bin": 2 * 1024 * 1024 + 1, "nested/b.bin": 1024 * 1024, "nested/deeper/c.txt": 10}
    for rel, size in sizes.items():
        _random_file(folder / rel, size)
    total = sum(sizes.values())
    seen: list[tuple[int, int]] = []
    starts: list[tuple[str, int]] = []

    @contextmanager
    def hook(description: str, n: int) -> Iterator[Callable[[int], None]]:
        starts.append((description, n))
        yield lambda _: None

    from flyte.syncify import syncify

    @syncify
    async def go() -> str:
        return await _data.upload_dir_in(
            flyte.remote.current_session(), folder, progress=lambda d, t: seen.append((d, t))
        )

    with _data.transfer_progress(hook):
        uri = go()

    for rel in sizes:
        assert (_stored(backend, uri) / rel).read_bytes() == (folder / rel).read_bytes()
    assert seen[-1] == (total, total)
    assert {t for _, t in seen} == {total}
    assert starts == [("Uploading data/ (3 files)", total)]  # one bar for the folder, not one per file


def test_a_refused_put_raises_a_clear_error_naming_the_url_even_mid_body(backend: Backend, tmp_path: Path):
    source = _random_file(tmp_path / "big.bin", 8 * 1024 * 1024)
    backend.data_proxy.tamper = True
    with pytest.raises(RuntimeError, match=r"uploading to http://127\.0\.0\.1:\d+/.*big\.bin failed: HTTP 403"):
        flyte.remote.upload_file(source)
    assert backend.store.puts == []


def test_a_url_that_is_not_http_is_refused_by_name(tmp_path: Path):
    source = _random_file(tmp_path / "f.bin", 10)
    with pytest.raises(RuntimeError, match=r"uploading to ftp://host/x failed: .*not http\(s\): ftp://"):
        _data._put("ftp://host/x?sig=1", source, 10, {}, lambda n: None)


def test_a_file_that_changes_size_while_uploading_is_an_error(tmp_path: Path):
    source = _random_file(tmp_path / "f.bin", 10)
    with pytest.raises(RuntimeError, match="changed size"):
        list(_data._chunks(source, 20, lambda n: None))


class _ForwardProxy(http.server.BaseHTTPRequestHandler):
    """A plain-HTTP forward proxy: it takes absolute-URL requests and passes them on."""

    seen: list[tuple[str, str | None]]

    def log_message(self, format: str, *args: object) -> None:
        pass

    def do_PUT(self) -> None:
        import http.client

        self.seen.append((self.path, self.headers.get("Proxy-Authorization")))
        url = urlsplit(self.path)
        if not url.scheme:  # not a proxy request: a client that ignored the proxy would not get here
            self.send_error(400, "expected an absolute URL")
            return
        body = self.rfile.read(int(self.headers["Content-Length"]))
        upstream = http.client.HTTPConnection(url.hostname or "", url.port, timeout=30)
        forwarded = {k: v for k, v in self.headers.items() if k.lower() not in ("proxy-authorization", "host")}
        upstream.request("PUT", f"{url.path}?{url.query}", body=body, headers=forwarded)
        answer = upstream.getresponse()
        data = answer.read()
        self.send_response(answer.status)
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(data)
        upstream.close()


def test_uploads_go_through_the_http_proxy_the_environment_names(
    backend: Backend, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    seen: list[tuple[str, str | None]] = []
    handler = type("Proxy", (_ForwardProxy,), {"seen": seen})
    proxy = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=proxy.serve_forever, daemon=True).start()
    try:
        for name in ("no_proxy", "NO_PROXY"):
            monkeypatch.delenv(name, raising=False)
        monkeypatch.setenv("no_grpc_proxy", "127.0.0.1")  # grpc honours http_proxy too; this proxy speaks only HTTP
        monkeypatch.setenv("http_proxy", f"http://user:s%40cret@127.0.0.1:{proxy.server_address[1]}")
        source = _random_file(tmp_path / "via-proxy.bin", 3 * 1024 * 1024 + 5)
        uri = flyte.remote.upload_file(source)
        assert _stored(backend, uri).read_bytes() == source.read_bytes()
        ((target, auth),) = seen
        assert target.startswith("http://127.0.0.1:")
        assert target.split("?")[0].endswith("/via-proxy.bin")
        assert auth == "Basic " + base64.b64encode(b"user:s@cret").decode()

        # NO_PROXY wins, as for urllib: the PUT goes straight to the endpoint.
        monkeypatch.setenv("no_proxy", "127.0.0.1")
        flyte.remote.upload_file(_random_file(tmp_path / "direct.bin", 10))
        assert len(seen) == 1
    finally:
        proxy.shutdown()
        proxy.server_close()
