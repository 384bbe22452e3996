"""Signed upload URLs: the signed one works once its content matches; a tampered signature,
a ``..`` path, an expired URL or other content is refused and writes nothing."""

from __future__ import annotations

import asyncio
import hashlib
import time
from base64 import b64encode
from pathlib import Path
from urllib.parse import parse_qs, urlencode, urlsplit

import grpc
import pytest
from flyteidl2.dataproxy import dataproxy_service_pb2
from google.protobuf import duration_pb2

from flyte.remote import ClientSet

from .conftest import DOMAIN, PROJECT, Server, put

pytestmark = pytest.mark.asyncio
DATA = b"some bytes to upload"


async def location(clients: ClientSet, filename: str, **fields: object):  # type: ignore[no-untyped-def]
    return await clients.dataproxy_service.CreateUploadLocation(
        dataproxy_service_pb2.CreateUploadLocationRequest(project=PROJECT, domain=DOMAIN, filename=filename, **fields)
    )


async def read(native_url: str) -> bytes:
    return await asyncio.to_thread(Path(native_url.removeprefix("file://")).read_bytes)


def files_below(folder: Path) -> set[str]:
    return {str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file()}


def with_query(url: str, **changes: str) -> str:
    parts = urlsplit(url)
    query = {k: v[0] for k, v in parse_qs(parts.query).items()} | changes
    return parts._replace(query=urlencode(query)).geturl()


async def test_a_signed_url_stores_the_file_at_its_native_url(clients: ClientSet):
    md5 = hashlib.md5(DATA).digest()
    loc = await location(clients, "data.bin", content_md5=md5)
    assert put(loc.signed_url, DATA, {"Content-MD5": b64encode(md5).decode()}) == 200
    assert await read(loc.native_url) == DATA
    assert loc.expires_at.seconds > time.time()


async def test_a_url_without_md5_takes_any_content_under_the_given_root(clients: ClientSet, server: Server):
    loc = await location(clients, "notes.txt", filename_root="my-prefix")
    assert put(loc.signed_url, b"first") == 200
    assert "/my-prefix/notes.txt" in loc.native_url
    assert await read(loc.native_url) == b"first"


async def test_a_tampered_signature_is_refused_and_writes_nothing(clients: ClientSet, server: Server):
    loc = await location(clients, "tampered.bin")
    signature = parse_qs(urlsplit(loc.signed_url).query)["sig"][0]
    forged = ("0" if signature[0] != "0" else "1") + signature[1:]
    before = files_below(server.data_dir)
    assert put(with_query(loc.signed_url, sig=forged), DATA) == 403
    assert put(with_query(loc.signed_url, expires=str(int(time.time()) + 999_999)), DATA) == 403
    assert files_below(server.data_dir) == before


async def test_a_path_that_climbs_out_is_refused(clients: ClientSet, server: Server):
    loc = await location(clients, "inside.bin")
    parts = urlsplit(loc.signed_url)
    before = files_below(server.data_dir)
    for path in ("/upload/../../escape.bin", "/upload/%2e%2e/%2e%2e/escape.bin", "/upload/_/a/..%2F..%2Fescape.bin"):
        url = f"{parts.scheme}://{parts.netloc}{path}?{parts.query}"
        # urllib would normalise '..' away; send the path as written.
        assert _raw_put(parts.netloc, f"{path}?{parts.query}", DATA) in (400, 403), url
    assert files_below(server.data_dir) == before
    assert not (server.data_dir.parent / "escape.bin").exists()


async def test_an_expired_url_is_refused(clients: ClientSet, server: Server):
    loc = await location(clients, "expires.bin", expires_in=duration_pb2.Duration(seconds=1))
    await asyncio.sleep(2.1)
    assert put(loc.signed_url, DATA) == 403


async def test_content_that_is_not_the_signed_md5_is_refused(clients: ClientSet, server: Server):
    md5 = hashlib.md5(DATA).digest()
    loc = await location(clients, "md5.bin", content_md5=md5)
    before = files_below(server.data_dir)
    assert put(loc.signed_url, b"other bytes") == 400
    assert put(loc.signed_url, DATA, {"Content-MD5": b64encode(hashlib.md5(b"x").digest()).decode()}) == 400
    assert files_below(server.data_dir) == before


async def test_upload_locations_refuse_bad_names(clients: ClientSet):
    for fields in ({"filename": "../x"}, {"filename": ""}, {"filename": "a", "filename_root": ".."}):
        with pytest.raises(grpc.aio.AioRpcError) as e:
            await clients.dataproxy_service.CreateUploadLocation(
                dataproxy_service_pb2.CreateUploadLocationRequest(project=PROJECT, domain=DOMAIN, **fields)
            )
        assert e.value.code() == grpc.StatusCode.INVALID_ARGUMENT, fields


def _raw_put(netloc: str, target: str, body: bytes) -> int:
    import http.client

    host, port = netloc.rsplit(":", 1)
    conn = http.client.HTTPConnection(host, int(port), timeout=10)
    try:
        conn.putrequest("PUT", target, skip_accept_encoding=True)
        conn.putheader("Content-Length", str(len(body)))
        conn.endheaders(body)
        return conn.getresponse().status
    finally:
        conn.close()
