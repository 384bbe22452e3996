"""flyte.io against a real S3 API (moto on loopback): uploads, streaming, listing, frames, pickles."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Iterator

import pandas as pd
import pytest

import flyte.storage as storage
from flyte.io import DataFrame, Dir, File, use_raw_data_path
from flyte.types import TypeEngine

BUCKET = "flyte-io-test"


@pytest.fixture(scope="module")
def s3() -> Iterator[str]:
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    try:
        host, port = server.get_host_and_port()
        endpoint = f"http://{host}:{port}"
        import botocore.session

        client = botocore.session.get_session().create_client(
            "s3",
            endpoint_url=endpoint,
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
            region_name="us-east-1",
        )
        client.create_bucket(Bucket=BUCKET)
        storage.configure(
            storage.S3(endpoint=endpoint, access_key_id="testing", secret_access_key="testing", retries=1)
        )
        yield f"s3://{BUCKET}"
    finally:
        storage.configure()
        server.stop()


@pytest.fixture
def raw(s3: str, request: pytest.FixtureRequest) -> Iterator[str]:
    prefix = f"{s3}/raw/{request.node.name}"
    with use_raw_data_path(prefix):
        yield prefix


def test_from_local_uploads_when_the_raw_data_path_is_remote(raw, tmp_path):
    src = tmp_path / "up.txt"
    src.write_text("to the cloud")

    async def go():
        f = await File.from_local(src)
        async with f.open("r") as fh:
            return f, await fh.read()

    f, text = asyncio.run(go())
    assert f.path.startswith(raw)
    assert f.path.endswith("/up.txt")
    assert text == "to the cloud"
    assert f.exists_sync()
    assert open(f.download_sync()).read() == "to the cloud"  # noqa: SIM115


def test_a_local_file_returned_to_a_remote_raw_data_path_is_uploaded(raw, tmp_path):
    src = tmp_path / "local.txt"
    src.write_text("x")
    lit = TypeEngine.to_literal_sync(File(path=str(src)), File)
    assert lit.scalar.blob.uri.startswith(raw)
    back = TypeEngine.to_python_value_sync(lit, File)
    with back.open_sync("r") as fh:
        assert fh.read() == "x"


def test_remote_writes_stream_and_sync_writes_upload_on_close(raw):
    async def write():
        f = File.new_remote("big.bin")
        async with f.open("wb") as out:
            for _ in range(4):
                await out.write(b"z" * 100_000)
        return f

    f = asyncio.run(write())
    assert asyncio.run(storage.size(f.path)) == 400_000
    g = File.new_remote("sync.txt")
    with g.open_sync("w") as fh:
        fh.write("sync upload")
    with g.open_sync("r") as fh:
        assert fh.read() == "sync upload"


def test_dir_uploads_walks_and_downloads(raw, tmp_path):
    src = tmp_path / "tree"
    (src / "sub").mkdir(parents=True)
    (src / "a.txt").write_text("a")
    (src / "sub" / "b.txt").write_text("b")
    d = Dir.from_local_sync(src)
    assert d.path.startswith(raw)
    names = sorted(os.path.relpath(f.path, d.path) for f in d.walk_sync())
    assert names == ["a.txt", "sub/b.txt"]
    assert [f.name for f in d.list_files_sync()] == ["a.txt"]
    local = d.download_sync()
    assert open(os.path.join(local, "sub", "b.txt")).read() == "b"  # noqa: SIM115
    lit = TypeEngine.to_literal_sync(d, Dir)
    assert lit.scalar.blob.uri == d.path


def test_frames_are_written_to_and_read_from_the_store(raw):
    frame = pd.DataFrame({"a": [1, 2, 3], "s": ["x", "y", "z"]})
    lit = TypeEngine.to_literal_sync(frame, pd.DataFrame)
    uri = lit.scalar.structured_dataset.uri
    assert uri.startswith(raw)
    assert asyncio.run(storage.exists(storage.join(uri, "00000")))
    assert TypeEngine.to_python_value_sync(lit, pd.DataFrame).equals(frame)
    fdf = TypeEngine.to_python_value_sync(lit, DataFrame)
    assert fdf.open(pd.DataFrame).all_sync().equals(frame)


def test_large_pickles_are_uploaded_to_the_store(raw):
    big = _Big(os.urandom(30_000))
    lit = TypeEngine.to_literal_sync(big, _Big)
    assert lit.scalar.blob.uri.startswith(raw)
    assert TypeEngine.to_python_value_sync(lit, _Big).data == big.data


class _Big:
    def __init__(self, data: bytes):
        self.data = data
