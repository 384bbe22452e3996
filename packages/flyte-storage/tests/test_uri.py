# ruff: noqa: ASYNC230 - the test writes one small local file inline
"""URIs: which backend serves them, and the clear errors for bad ones."""

from __future__ import annotations

import os

import pytest

import flyte.storage as storage
from flyte.storage._uri import parse


@pytest.mark.parametrize(
    ("uri", "protocol", "path"),
    [
        ("s3://bucket/a/b.txt", "s3", "bucket/a/b.txt"),
        ("gs://bucket/a", "gs", "bucket/a"),
        ("abfs://container/a", "abfs", "container/a"),
        ("abfss://container@acct.dfs.core.windows.net/a", "abfs", "container@acct.dfs.core.windows.net/a"),
        ("S3://bucket/key", "s3", "bucket/key"),
        ("file:///tmp/x.txt", "file", "/tmp/x.txt"),
        ("file://localhost/tmp/x.txt", "file", "/tmp/x.txt"),
        ("/tmp/x.txt", "file", "/tmp/x.txt"),
    ],
)
def test_parse_maps_each_scheme_to_its_backend(uri: str, protocol: str, path: str) -> None:
    loc = parse(uri)
    assert (loc.protocol, loc.path) == (protocol, path)


def test_a_relative_local_path_becomes_absolute() -> None:
    assert parse("some/file.txt").path == os.path.join(os.getcwd(), "some", "file.txt")


@pytest.mark.parametrize(
    ("uri", "message"),
    [
        ("http://example.com/x", "unknown scheme 'http'"),
        ("ftp://host/x", "unknown scheme 'ftp'"),
        ("s3://", "no bucket"),
        ("s3:///key", "no bucket"),
        ("s3:/bucket/key", "malformed URI"),
        ("gs:bucket/key", "malformed URI"),
        ("", "empty string"),
        ("   ", "empty string"),
        ("file://otherhost/x", "name no host"),
        ("s3://my bucket/x", "whitespace"),
    ],
)
def test_bad_uris_are_refused_with_a_message_naming_them(uri: str, message: str) -> None:
    with pytest.raises(storage.InvalidStoragePathError, match=message) as caught:
        parse(uri)
    assert repr(uri) in str(caught.value)
    assert isinstance(caught.value, ValueError)


@pytest.mark.asyncio(loop_scope="session")
async def test_an_unknown_scheme_writes_nothing(tmp_path: os.PathLike[str]) -> None:
    src = os.path.join(tmp_path, "f.txt")
    with open(src, "w") as f:
        f.write("x")
    with pytest.raises(storage.InvalidStoragePathError, match="unknown scheme"):
        await storage.put(src, "hdfs://cluster/f.txt")


def test_join_uses_slashes_for_remote_uris_and_os_paths_for_local_ones() -> None:
    assert storage.join("s3://bucket/a/", "/b/", "c.txt") == "s3://bucket/a/b/c.txt"
    assert storage.join("s3://", "bucket", "k") == "s3://bucket/k"
    assert storage.join("/tmp", "a", "b") == os.path.join("/tmp", "a", "b")


def test_is_remote_is_true_only_for_store_uris() -> None:
    assert storage.is_remote("s3://b/k")
    assert storage.is_remote("abfss://c/k")
    assert not storage.is_remote("/tmp/x")
    assert not storage.is_remote("file:///tmp/x")
    assert not storage.is_remote("relative/x")


@pytest.mark.parametrize("relative", ["../x", "a/../../x", "/etc/passwd", "..", "a/b/../../../x"])
def test_safe_join_refuses_to_leave_its_base(relative: str) -> None:
    with pytest.raises(storage.InvalidStoragePathError, match="escapes its base folder"):
        storage.safe_join("s3://bucket/run", relative)


def test_safe_join_accepts_dot_segments_that_stay_inside() -> None:
    assert storage.safe_join("s3://bucket/run", "a/./b/../c.txt") == "s3://bucket/run/a/c.txt"
