"""DataFrame handler registration through flyte.extend, and moving dataset folders to and from a store.

The remote cases run against a real S3 API: moto on loopback.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import flyte.extend as extend
import flyte.io
import flyte.storage as storage
from flyte.types import TypeEngine

BUCKET = "flyte-extend-test"


def write_two_parts(folder: str) -> None:
    """What an engine does: create the folder, one file per partition, a marker file."""
    os.makedirs(folder)
    pq.write_table(pa.table({"n": [1, 2]}), os.path.join(folder, "part-0.parquet"))
    pq.write_table(pa.table({"n": [3]}), os.path.join(folder, "part-1.parquet"))
    Path(folder, "_SUCCESS").touch()


def test_the_dataframe_registry_is_flyte_ios():
    assert extend.DataFrame is flyte.io.DataFrame
    assert extend.DataFrameEncoder is flyte.io.DataFrameEncoder
    assert extend.DataFrameDecoder is flyte.io.DataFrameDecoder
    assert extend.DataFrameTransformerEngine is flyte.io.DataFrameTransformerEngine
    assert extend.PARQUET == "parquet"


def test_a_dataset_folder_is_written_in_place_at_a_local_uri(tmp_path):
    target = tmp_path / "out" / "frame"
    uri = asyncio.run(extend.write_dataset(extend.DataFrame(uri=str(target)), write_two_parts))
    assert uri == str(target)
    assert pq.read_table(str(target)).column("n").to_pylist() == [1, 2, 3]
    file_uri = f"file://{tmp_path}/other"
    assert asyncio.run(extend.write_dataset(extend.DataFrame(uri=file_uri), write_two_parts)) == file_uri
    assert (tmp_path / "other" / "_SUCCESS").exists()


def test_a_dataset_without_a_uri_goes_under_the_raw_data_path(tmp_path):
    with flyte.io.use_raw_data_path(str(tmp_path / "raw")):
        uri = asyncio.run(extend.write_dataset(extend.DataFrame(), write_two_parts))
    assert uri.startswith(str(tmp_path / "raw"))
    assert pq.read_table(uri).num_rows == 3


def test_a_local_dataset_is_read_where_it_is(tmp_path):
    assert asyncio.run(extend.local_dataset(str(tmp_path))) == str(tmp_path)
    assert asyncio.run(extend.local_dataset(f"file://{tmp_path}")) == str(tmp_path)


def test_a_failing_writer_fails_the_write(tmp_path):
    def broken(folder: str) -> None:
        raise OSError("disk full")

    with pytest.raises(OSError, match="disk full"):
        asyncio.run(extend.write_dataset(extend.DataFrame(uri=str(tmp_path / "x")), broken))


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


def test_a_remote_dataset_is_uploaded_and_read_from_a_lasting_local_copy(s3):
    uri = f"{s3}/frames/two-parts"
    written = asyncio.run(extend.write_dataset(extend.DataFrame(uri=uri), write_two_parts))
    assert written == uri
    assert asyncio.run(storage.exists(f"{uri}/part-1.parquet"))
    assert asyncio.run(storage.exists(f"{uri}/_SUCCESS"))
    local = asyncio.run(extend.local_dataset(uri))
    assert not storage.is_remote(local)
    # Lazy engines read after the decoder returned: the copy is still there.
    assert pq.read_table(local).column("n").to_pylist() == [1, 2, 3]
    # And flyte.io's pandas decoder reads the same folder.
    lit = asyncio.run(TypeEngine.to_literal(extend.DataFrame(uri=uri, format="parquet"), extend.DataFrame))
    fdf = asyncio.run(TypeEngine.to_python_value(lit, extend.DataFrame))
    frame = asyncio.run(fdf.open(pd.DataFrame).all())
    assert sorted(frame["n"]) == [1, 2, 3]
