# ruff: noqa: ASYNC240 - tests check small local files inline; blocking there is harmless
"""Real faults between the client and a real S3 server (moto), injected by a loopback proxy:
transient ones are retried until the transfer succeeds; a failure that outlasts the retries, or
one that retrying cannot fix, leaves no object behind and names the URI."""

from __future__ import annotations

import asyncio
import os
import re
from pathlib import Path
from typing import Any

import pytest

import flyte.storage as storage

pytestmark = pytest.mark.asyncio(loop_scope="session")


def _object_exists(s3_server: Any, key: str) -> bool:
    found = s3_server.client().list_objects_v2(Bucket="contract", Prefix=key)
    return any(o["Key"] == key for o in found.get("Contents", []))


def _is_put(method: str, path: str) -> bool:
    return method == "PUT"


def _is_get(method: str, path: str) -> bool:
    return method == "GET"


@pytest.mark.parametrize("fault", ["500", "503", "reset", "stall"])
async def test_upload_succeeds_after_transient_faults(fault: str, fault_proxy_s3: Any, tmp_path: Path) -> None:
    src = tmp_path / "f.bin"
    src.write_bytes(b"payload")
    fault_proxy_s3.inject(fault, 2, _is_put)
    uri = await storage.put(str(src), f"s3://contract/faults/upload-{fault}.bin")
    assert fault_proxy_s3.actions().count(fault) == 2
    assert fault_proxy_s3.actions()[-1] == "forward"
    assert await storage.get(uri, str(tmp_path / "back.bin"))
    assert (tmp_path / "back.bin").read_bytes() == b"payload"


@pytest.mark.parametrize("fault", ["500", "503", "reset", "stall"])
async def test_download_succeeds_after_transient_faults(
    fault: str, fault_proxy_s3: Any, s3_server: Any, tmp_path: Path
) -> None:
    s3_server.client().put_object(Bucket="contract", Key=f"faults/download-{fault}.bin", Body=b"content")
    fault_proxy_s3.inject(fault, 2, _is_get)
    local = await storage.get(f"s3://contract/faults/download-{fault}.bin", str(tmp_path / "out.bin"))
    assert Path(local).read_bytes() == b"content"
    assert fault_proxy_s3.actions().count(fault) == 2
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.bin"]  # no temporary file left


async def test_an_upload_failing_beyond_the_retries_leaves_no_object(
    fault_proxy_s3: Any, s3_server: Any, tmp_path: Path
) -> None:
    src = tmp_path / "f.bin"
    src.write_bytes(b"never")
    fault_proxy_s3.inject("503", 10, _is_put)
    uri = "s3://contract/faults/exhausted.bin"
    with pytest.raises(storage.StorageUnavailableError, match=re.escape("exhausted.bin")) as caught:
        await storage.put(str(src), uri)
    assert caught.value.attempts == 4  # the first try and retries=3
    assert fault_proxy_s3.actions().count("503") == 4
    assert not _object_exists(s3_server, "faults/exhausted.bin")


async def test_a_multipart_upload_failing_midway_leaves_no_object_and_no_open_upload(
    fault_proxy_s3: Any, s3_server: Any, tmp_path: Path, backends: Any
) -> None:
    backends.apply(
        s3=s3_server.config(endpoint=f"http://127.0.0.1:{fault_proxy_s3.port}", retries=1, part_size=5 * 2**20)
    )
    src = tmp_path / "big.bin"
    src.write_bytes(os.urandom(11 * 2**20))  # three parts
    # Every part upload (PUT with partNumber=) fails: the first attempt and its retry both abort.
    fault_proxy_s3.inject("500", 100, lambda m, p: m == "PUT" and "partNumber=" in p)
    with pytest.raises(storage.StorageUnavailableError):
        await storage.put(str(src), "s3://contract/faults/multipart.bin")
    assert not _object_exists(s3_server, "faults/multipart.bin")
    uploads = s3_server.client().list_multipart_uploads(Bucket="contract").get("Uploads", [])
    assert [u for u in uploads if u["Key"] == "faults/multipart.bin"] == []


async def test_a_multipart_upload_survives_a_failed_part(
    fault_proxy_s3: Any, s3_server: Any, tmp_path: Path, backends: Any
) -> None:
    backends.apply(s3=s3_server.config(endpoint=f"http://127.0.0.1:{fault_proxy_s3.port}", part_size=5 * 2**20))
    data = os.urandom(11 * 2**20)
    (tmp_path / "big.bin").write_bytes(data)
    fault_proxy_s3.inject("503", 1, lambda m, p: m == "PUT" and "partNumber=2" in p)
    uri = await storage.put(str(tmp_path / "big.bin"), "s3://contract/faults/multipart-ok.bin")
    assert "503" in fault_proxy_s3.actions()
    assert Path(await storage.get(uri, str(tmp_path / "back.bin"))).read_bytes() == data


async def test_a_multipart_upload_whose_completion_answer_is_lost_is_retried_not_reported_missing(
    fault_proxy_s3: Any, s3_server: Any, tmp_path: Path, backends: Any
) -> None:
    # The server completes the upload but the answer is lost: s3fs then aborts an upload that no
    # longer exists (NoSuchUpload). That is the lost answer's consequence, a transient failure to
    # retry, not a missing object.
    backends.apply(s3=s3_server.config(endpoint=f"http://127.0.0.1:{fault_proxy_s3.port}", part_size=5 * 2**20))
    data = os.urandom(11 * 2**20)
    (tmp_path / "big.bin").write_bytes(data)
    fault_proxy_s3.inject("lose-response", 1, lambda m, p: m == "POST" and "uploadId=" in p)
    uri = await storage.put(str(tmp_path / "big.bin"), "s3://contract/faults/multipart-lost.bin")
    assert "lose-response" in fault_proxy_s3.actions()
    assert Path(await storage.get(uri, str(tmp_path / "back.bin"))).read_bytes() == data


async def test_access_denied_fails_at_once_without_retrying(fault_proxy_s3: Any, tmp_path: Path) -> None:
    # moto does not check credentials, so the proxy answers as S3 does for a refused key.
    src = tmp_path / "f.bin"
    src.write_bytes(b"x")
    fault_proxy_s3.inject("403", 5, _is_put)
    with pytest.raises(storage.StorageAccessDeniedError, match=re.escape("denied.bin")):
        await storage.put(str(src), "s3://contract/faults/denied.bin")
    assert fault_proxy_s3.actions() == ["403"]


async def test_a_missing_bucket_fails_at_once_and_names_the_uri(fault_proxy_s3: Any, tmp_path: Path) -> None:
    with pytest.raises(storage.StorageNotFoundError, match=re.escape("s3://no-such-bucket/key.bin")):
        await storage.get("s3://no-such-bucket/key.bin", str(tmp_path / "out.bin"))
    assert "403" not in fault_proxy_s3.actions()
    assert all(a == "forward" for a in fault_proxy_s3.actions())
    assert len(fault_proxy_s3.actions()) <= 2  # the GET, and the folder check that improves the message
    assert list(tmp_path.iterdir()) == []


async def test_a_stream_read_retries_a_reset_range_request(fault_proxy_s3: Any, s3_server: Any, tmp_path: Path) -> None:
    s3_server.client().put_object(Bucket="contract", Key="faults/stream.bin", Body=b"0123456789" * 100)
    fault_proxy_s3.inject("reset", 1, _is_get)
    chunks = [c async for c in storage.get_stream("s3://contract/faults/stream.bin", chunk_size=300)]
    assert b"".join(chunks) == b"0123456789" * 100
    assert fault_proxy_s3.actions().count("reset") == 1


async def test_a_hostile_key_cannot_escape_the_download_folder(s3_server: Any, tmp_path: Path) -> None:
    client = s3_server.client()
    client.put_object(Bucket="contract", Key="hostile/ok.txt", Body=b"ok")
    client.put_object(Bucket="contract", Key="hostile/../../escaped.txt", Body=b"bad")
    client.put_object(Bucket="contract", Key="hostile/a/../../../escaped.txt", Body=b"bad")
    target = tmp_path / "inside" / "deeper"
    with pytest.raises(storage.InvalidStoragePathError, match="escapes its base folder"):
        await storage.get("s3://contract/hostile", str(target), recursive=True)
    assert not target.exists()
    assert [p for p in tmp_path.rglob("*") if p.is_file()] == []


async def test_a_folder_transfer_keeps_max_concurrency_files_in_flight(
    fault_proxy_s3: Any, s3_server: Any, tmp_path: Path, backends: Any
) -> None:
    # botocore pools 10 connections unless told otherwise: the folder transfer must really run
    # max_concurrency files at once, and never more.
    backends.apply(s3=s3_server.config(endpoint=f"http://127.0.0.1:{fault_proxy_s3.port}", max_concurrency=24))
    src = tmp_path / "many"
    for i in range(60):
        (src / f"d{i % 3}").mkdir(parents=True, exist_ok=True)
        (src / f"d{i % 3}" / f"f{i:02d}.txt").write_bytes(b"x" * i)
    fault_proxy_s3.reset()
    await storage.put(str(src), "s3://contract/concurrency/many", recursive=True)
    assert 10 < fault_proxy_s3.peak_connections <= 24
    fault_proxy_s3.reset()
    back = tmp_path / "back"
    await storage.get("s3://contract/concurrency/many", str(back), recursive=True, max_concurrency=12)
    assert fault_proxy_s3.peak_connections <= 13  # 12 transfers, and the listing's connection at most
    assert sorted(p.relative_to(back) for p in back.rglob("*.txt")) == sorted(
        p.relative_to(src) for p in src.rglob("*.txt")
    )


async def test_the_first_files_of_a_folder_share_one_filesystem(s3_server: Any) -> None:
    from flyte.storage._backends import filesystem_for_config
    from flyte.storage._uri import parse

    config = s3_server.config(max_concurrency=7)  # used by no other test: nothing is cached for it yet
    location = parse("s3://contract/shared")
    built = await asyncio.gather(*(filesystem_for_config(location, config) for _ in range(16)))
    assert len({id(fs) for fs in built}) == 1
