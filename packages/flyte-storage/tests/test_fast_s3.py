"""The obstore fast path for S3 folders, against the real moto server behind the fault proxy:
it is the client that actually moves a folder's small files (told apart by the User-Agent each
request carries), larger files still go through s3fs, and it retries, fails and cleans up as
the s3fs path does."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

import flyte.storage as storage
from flyte.storage._fast_s3 import SMALL_OBJECT_BYTES

pytestmark = pytest.mark.asyncio(loop_scope="session")

OBSTORE_AGENT = "object_store"
BOTO_AGENT = "Botocore"


def _folder(root: Path, count: int = 12) -> Path:
    for i in range(count):
        (root / f"d{i % 3}").mkdir(parents=True, exist_ok=True)
        (root / f"d{i % 3}" / f"f{i:02d}.txt").write_bytes(f"file {i}".encode() * (i + 1))
    return root


def _tree(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def _keys(s3_server: Any, prefix: str) -> list[str]:
    found = s3_server.client().list_objects_v2(Bucket="contract", Prefix=prefix)
    return [o["Key"] for o in found.get("Contents", [])]


def _agents(proxy: Any, method: str) -> list[str]:
    with proxy._lock:
        return [agent for (m, _, _), agent in zip(proxy.log, proxy.user_agents, strict=True) if m == method]


def _is_object_put(method: str, path: str) -> bool:
    return method == "PUT"


def _is_object_get(method: str, path: str) -> bool:
    return method == "GET" and "list-type" not in path


async def test_a_folder_round_trip_on_s3_uses_obstore_for_small_files_and_s3fs_for_large(
    fault_proxy_s3: Any, s3_server: Any, tmp_path: Path
) -> None:
    src = _folder(tmp_path / "src")
    (src / "big.bin").write_bytes(b"B" * (SMALL_OBJECT_BYTES + 1))
    await storage.put(str(src), "s3://contract/fast/round", recursive=True)
    puts = _agents(fault_proxy_s3, "PUT")
    assert len(puts) == 13
    assert sum(OBSTORE_AGENT in a for a in puts) == 12  # the small files
    assert sum(BOTO_AGENT in a for a in puts) == 1  # the large one: s3fs, as before
    fault_proxy_s3.reset()
    back = tmp_path / "back"
    await storage.get("s3://contract/fast/round", str(back), recursive=True)
    gets = _agents(fault_proxy_s3, "GET")
    assert len(gets) == 14  # one listing, 12 small objects by obstore, the large one by s3fs
    assert sum(OBSTORE_AGENT in a for a in gets) == 13
    assert _tree(back) == _tree(src)
    assert not list(back.rglob("*.part"))


async def test_without_obstore_folders_go_through_s3fs(
    fault_proxy_s3: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FLYTE_STORAGE_OBSTORE", "0")
    src = _folder(tmp_path / "src", 4)
    await storage.put(str(src), "s3://contract/fast/off", recursive=True)
    await storage.get("s3://contract/fast/off", str(tmp_path / "back"), recursive=True)
    agents = fault_proxy_s3.user_agents
    assert agents
    assert all(BOTO_AGENT in a for a in agents)
    assert _tree(tmp_path / "back") == _tree(src)


@pytest.mark.parametrize("fault", ["500", "503", "reset"])
async def test_a_fast_folder_put_retries_transient_faults(
    fault: str, fault_proxy_s3: Any, s3_server: Any, tmp_path: Path
) -> None:
    src = _folder(tmp_path / "src", 6)
    fault_proxy_s3.inject(fault, 3, _is_object_put)  # the first three PUTs fail; retries=3
    await storage.put(str(src), f"s3://contract/fast/put-{fault}", recursive=True)
    assert fault_proxy_s3.actions().count(fault) == 3
    assert all(OBSTORE_AGENT in a for a in _agents(fault_proxy_s3, "PUT"))
    assert sorted(_keys(s3_server, f"fast/put-{fault}/")) == sorted(f"fast/put-{fault}/{rel}" for rel in _tree(src))


@pytest.mark.parametrize("fault", ["500", "503", "reset"])
async def test_a_fast_folder_get_retries_transient_faults(
    fault: str, fault_proxy_s3: Any, s3_server: Any, tmp_path: Path
) -> None:
    src = _folder(tmp_path / "src", 6)
    await storage.put(str(src), f"s3://contract/fast/get-{fault}", recursive=True)
    fault_proxy_s3.reset()
    fault_proxy_s3.inject(fault, 3, _is_object_get)
    fault_proxy_s3.inject(fault, 1, lambda m, p: "list-type" in p)  # and the listing once
    back = tmp_path / "back"
    await storage.get(f"s3://contract/fast/get-{fault}", str(back), recursive=True)
    assert fault_proxy_s3.actions().count(fault) == 4
    assert all(OBSTORE_AGENT in a for a in _agents(fault_proxy_s3, "GET"))
    assert _tree(back) == _tree(src)
    assert not list(back.rglob("*.part"))


async def test_a_fast_folder_put_failing_beyond_the_retries_names_the_file_and_writes_nothing(
    fault_proxy_s3: Any, s3_server: Any, tmp_path: Path
) -> None:
    src = _folder(tmp_path / "src", 3)
    fault_proxy_s3.inject("503", 1000, _is_object_put)
    with pytest.raises(storage.StorageUnavailableError, match=r"s3://contract/fast/outage/d\d/f\d\d\.txt") as info:
        await storage.put(str(src), "s3://contract/fast/outage", recursive=True)
    assert info.value.attempts == 4  # the first try and 3 retries
    assert "SlowDown" in str(info.value)
    assert _keys(s3_server, "fast/outage") == []


async def test_a_fast_folder_get_failing_beyond_the_retries_leaves_no_file(
    fault_proxy_s3: Any, s3_server: Any, tmp_path: Path
) -> None:
    src = _folder(tmp_path / "src", 3)
    await storage.put(str(src), "s3://contract/fast/get-outage", recursive=True)
    fault_proxy_s3.inject("500", 1000, _is_object_get)
    back = tmp_path / "back"
    with pytest.raises(storage.StorageUnavailableError, match=r"s3://contract/fast/get-outage/d\d/f\d\d\.txt"):
        await storage.get("s3://contract/fast/get-outage", str(back), recursive=True)
    assert [p for p in back.rglob("*") if p.is_file()] == []  # no file, whole or partial


async def test_a_fast_folder_put_to_a_missing_bucket_fails_at_once(
    fault_proxy_s3: Any, s3_server: Any, tmp_path: Path
) -> None:
    src = _folder(tmp_path / "src", 5)
    with pytest.raises(storage.StorageNotFoundError, match=re.escape("s3://no-such-bucket/run/")) as info:
        await storage.put(str(src), "s3://no-such-bucket/run", recursive=True)
    assert "NoSuchBucket" in str(info.value)
    assert "Debug source" not in str(info.value)
    assert len(fault_proxy_s3.actions()) <= 5  # each file tried once at most: never retried
    assert "no-such-bucket" not in s3_server.client().list_buckets()["Buckets"]


async def test_a_fast_folder_get_from_a_missing_bucket_fails_and_writes_nothing(
    fault_proxy_s3: Any, tmp_path: Path
) -> None:
    back = tmp_path / "back"
    with pytest.raises(storage.StorageNotFoundError, match=re.escape("s3://no-such-bucket/run")):
        await storage.get("s3://no-such-bucket/run", str(back), recursive=True)
    assert fault_proxy_s3.actions() == ["forward"]  # the one listing, not retried
    assert not back.exists()


async def test_refused_credentials_fail_a_fast_folder_put_at_once(
    fault_proxy_s3: Any, s3_server: Any, tmp_path: Path
) -> None:
    # moto does not check credentials, so the proxy answers as S3 does for a refused key.
    src = _folder(tmp_path / "src", 4)
    fault_proxy_s3.inject("403", 1000, _is_object_put)
    with pytest.raises(storage.StorageAccessDeniedError, match=r"s3://contract/fast/denied/d\d/f\d\d\.txt"):
        await storage.put(str(src), "s3://contract/fast/denied", recursive=True)
    assert len(fault_proxy_s3.actions()) <= 4  # never retried
    assert _keys(s3_server, "fast/denied") == []


async def test_missing_credentials_fail_clearly_and_write_nothing(
    s3_server: Any, backends: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # No keys in the config: botocore's default chain is asked, as s3fs would, and finds none.
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    backends.apply(s3=storage.S3(endpoint=s3_server.endpoint, retries=2, backoff=0.01))
    try:
        src = _folder(tmp_path / "src", 2)
        with pytest.raises(storage.StorageAccessDeniedError, match=re.escape("s3://contract/fast/nocreds")):
            await storage.put(str(src), "s3://contract/fast/nocreds", recursive=True)
    finally:
        backends.apply()
    assert _keys(s3_server, "fast/nocreds") == []


async def test_credentials_from_the_environment_are_found_through_botocore(
    s3_server: Any, backends: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    backends.apply(s3=storage.S3(endpoint=s3_server.endpoint, backoff=0.01))
    try:
        src = _folder(tmp_path / "src", 3)
        await storage.put(str(src), "s3://contract/fast/envcreds", recursive=True)
        await storage.get("s3://contract/fast/envcreds", str(tmp_path / "back"), recursive=True)
    finally:
        backends.apply()
    assert _tree(tmp_path / "back") == _tree(src)
