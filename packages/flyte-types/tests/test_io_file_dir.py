"""flyte.io.File and Dir: references to blobs, their literals, and reading and writing them."""

from __future__ import annotations

import asyncio
import os
import typing

import pytest
from flyteidl2.core import literals_pb2, types_pb2

from flyte.errors import RuntimeDataValidationError
from flyte.io import Dir, File, raw_data_path, use_raw_data_path
from flyte.types import LiteralMismatchError, TypeEngine

SINGLE = types_pb2.BlobType.BlobDimensionality.SINGLE
MULTIPART = types_pb2.BlobType.BlobDimensionality.MULTIPART


@pytest.fixture
def raw(tmp_path):
    folder = tmp_path / "raw"
    with use_raw_data_path(str(folder)):
        yield folder


@pytest.fixture
def tree(tmp_path):
    root = tmp_path / "tree"
    (root / "sub" / "deeper").mkdir(parents=True)
    (root / "a.txt").write_text("a")
    (root / "b.txt").write_text("bb")
    (root / "sub" / "c.txt").write_text("ccc")
    (root / "sub" / "deeper" / "d.txt").write_text("dddd")
    return root


def roundtrip(value, t):
    async def go():
        lit = await TypeEngine.to_literal(value, t, TypeEngine.to_literal_type(t))
        parsed = literals_pb2.Literal.FromString(lit.SerializeToString())
        return lit, await TypeEngine.to_python_value(parsed, t)

    return asyncio.run(go())


# --- File ------------------------------------------------------------------------------------


def test_file_literal_type_is_a_single_blob_with_no_format():
    assert TypeEngine.to_literal_type(File) == types_pb2.LiteralType(blob=types_pb2.BlobType(dimensionality=SINGLE))
    assert TypeEngine.to_literal_type(File[typing.Literal["csv"]]) == TypeEngine.to_literal_type(File)


def test_file_from_local_refers_to_the_file_in_place_when_raw_data_is_local(raw, tmp_path):
    src = tmp_path / "data.csv"
    src.write_text("a,b\n1,2\n")
    f = File.from_local_sync(src)
    assert f.path == str(src)
    assert f.name == "data.csv"
    lit, back = roundtrip(f, File)
    assert lit.scalar.blob.uri == str(src)
    assert lit.scalar.blob.metadata.type.dimensionality == SINGLE
    assert back == f


def test_file_from_local_copies_to_a_given_destination(tmp_path):
    src = tmp_path / "x.bin"
    src.write_bytes(b"\x00\x01")
    dest = tmp_path / "out" / "y.bin"
    f = asyncio.run(File.from_local(src, remote_destination=str(dest)))
    assert f.path == str(dest)
    assert dest.read_bytes() == b"\x00\x01"


def test_file_from_local_of_a_missing_file_is_a_value_error(tmp_path):
    with pytest.raises(ValueError, match="is not an existing file"):
        File.from_local_sync(tmp_path / "nope")


def test_file_format_and_hash_travel_in_the_literal():
    f = File(path="s3://bucket/k/data.csv", format="csv", hash="abc")
    lit, back = roundtrip(f, File)
    assert lit.scalar.blob.metadata.type.format == "csv"
    assert lit.hash == "abc"
    assert back == File(path="s3://bucket/k/data.csv", name="data.csv", format="csv", hash="abc")


def test_file_new_remote_is_under_the_raw_data_path(raw):
    f = File.new_remote("report.txt")
    assert f.path.startswith(str(raw))
    assert f.name == "report.txt"
    assert not f.exists_sync()


def test_file_open_streams_bytes_and_text_both_ways(raw):
    async def go():
        f = File.new_remote("t.txt")
        async with f.open("w") as out:
            await out.write("héllo ")
            await out.write("wörld")
        async with f.open("r") as fh:
            text = await fh.read()
        async with f.open("rb", block_size=3) as fh:
            blocks = [b async for b in fh]
        return f, text, blocks

    f, text, blocks = asyncio.run(go())
    assert text == "héllo wörld"
    assert b"".join(blocks) == "héllo wörld".encode()
    assert max(len(b) for b in blocks) == 3
    assert f.exists_sync()


def test_a_failed_write_publishes_nothing(raw):
    f = File.new_remote("never.txt")

    async def go():
        async with f.open("wb") as out:
            await out.write(b"partial")
            raise RuntimeError("boom")

    with pytest.raises(RuntimeError):
        asyncio.run(go())
    assert not f.exists_sync()


def test_file_open_sync_reads_and_writes(raw):
    f = File.new_remote("s.txt")
    with f.open_sync("w") as out:
        out.write("sync")
    with f.open_sync("r") as fh:
        assert fh.read() == "sync"


def test_file_open_rejects_an_unknown_mode():
    with pytest.raises(ValueError, match="mode must be"):
        File(path="/tmp/x").open("a")  # type: ignore[call-overload]


def test_file_download_of_a_local_file_is_its_path_or_a_copy(tmp_path):
    src = tmp_path / "d.txt"
    src.write_text("d")
    f = File(path=str(src))
    assert f.download_sync() == str(src)
    copy = asyncio.run(f.download(tmp_path / "copy.txt"))
    with open(copy) as fh:
        assert fh.read() == "d"


def test_sync_helpers_refuse_to_run_inside_an_event_loop(tmp_path):
    async def go():
        File(path=str(tmp_path)).download_sync(tmp_path / "x")

    with pytest.raises(RuntimeError, match=r"await File\.download"):
        asyncio.run(go())


def test_a_multipart_blob_is_not_a_file():
    multipart = literals_pb2.BlobMetadata(type=types_pb2.BlobType(dimensionality=MULTIPART))
    lit = literals_pb2.Literal(scalar=literals_pb2.Scalar(blob=literals_pb2.Blob(uri="/x", metadata=multipart)))
    with pytest.raises(LiteralMismatchError, match="single-part"):
        TypeEngine.to_python_value_sync(lit, File)
    with pytest.raises(LiteralMismatchError, match="expected a blob literal"):
        TypeEngine.to_python_value_sync(TypeEngine.to_literal_sync(3, int), File)


def test_a_value_that_is_not_a_file_names_the_variable():
    with pytest.raises(RuntimeDataValidationError, match=r"report.*expected File, got str"):
        asyncio.run(TypeEngine.dict_to_literal_map({"report": "/tmp/x"}, {"report": File}))


def test_files_inside_lists_and_optionals():
    files = [File(path=f"s3://b/{i}.txt") for i in range(3)]
    _, back = roundtrip(files, list[File])
    assert back == files
    _, back = roundtrip(None, typing.Optional[File])  # noqa: UP045
    assert back is None
    _, back = roundtrip(files[0], typing.Optional[File])  # noqa: UP045
    assert back == files[0]


def test_blob_literal_types_guess_back_to_file_and_dir():
    assert TypeEngine.guess_python_type(TypeEngine.to_literal_type(File)) is File
    assert TypeEngine.guess_python_type(TypeEngine.to_literal_type(Dir)) is Dir


# --- Dir -------------------------------------------------------------------------------------


def test_dir_is_a_multipart_blob(raw, tree):
    d = asyncio.run(Dir.from_local(tree))
    assert d.path == str(tree)
    assert d.name == "tree"
    lit, back = roundtrip(d, Dir)
    assert TypeEngine.to_literal_type(Dir).blob.dimensionality == MULTIPART
    assert lit.scalar.blob.metadata.type.dimensionality == MULTIPART
    assert lit.scalar.blob.uri == str(tree)
    assert back == d


def test_dir_walk_lists_files_sorted_with_depth_limits(tree):
    d = Dir(path=str(tree))

    def names(files):
        return [os.path.relpath(f.path, tree) for f in files]

    async def walk(**kw):
        return [f async for f in d.walk(**kw)]

    everything = ["a.txt", "b.txt", "sub/c.txt", "sub/deeper/d.txt"]
    assert names(asyncio.run(walk())) == everything
    assert names(d.walk_sync()) == everything
    assert names(asyncio.run(walk(recursive=False))) == ["a.txt", "b.txt"]
    assert names(asyncio.run(walk(max_depth=2))) == ["a.txt", "b.txt", "sub/c.txt"]
    assert names(d.list_files_sync()) == ["a.txt", "b.txt"]
    assert names(asyncio.run(d.list_files())) == ["a.txt", "b.txt"]


def test_dir_download_copies_the_tree_and_get_file_finds_one(tree, tmp_path):
    d = Dir(path=str(tree))
    assert d.download_sync() == str(tree)
    copy = asyncio.run(d.download(tmp_path / "copy"))
    with open(os.path.join(copy, "sub", "deeper", "d.txt")) as fh:
        assert fh.read() == "dddd"
    found = asyncio.run(d.get_file("a.txt"))
    assert found is not None
    assert found.name == "a.txt"
    assert asyncio.run(d.get_file("missing.txt")) is None
    assert d.exists_sync()
    assert asyncio.run(d.exists())


def test_dir_from_local_copies_to_a_given_destination(tree, tmp_path):
    d = Dir.from_local_sync(tree, remote_destination=str(tmp_path / "dest"))
    assert sorted(os.path.relpath(f.path, d.path) for f in d.walk_sync()) == [
        "a.txt",
        "b.txt",
        "sub/c.txt",
        "sub/deeper/d.txt",
    ]


# --- raw data path ---------------------------------------------------------------------------


def test_the_raw_data_path_is_scoped_and_defaults_to_a_local_folder(tmp_path):
    default = raw_data_path()
    assert "://" not in default
    with use_raw_data_path("s3://bucket/raw"):
        assert raw_data_path() == "s3://bucket/raw"
        with use_raw_data_path(str(tmp_path)):
            assert raw_data_path() == str(tmp_path)
        assert raw_data_path() == "s3://bucket/raw"
    assert raw_data_path() == default


def test_the_raw_data_path_follows_tasks_into_coroutines(tmp_path):
    async def child():
        return raw_data_path()

    async def go():
        with use_raw_data_path(str(tmp_path)):
            return await asyncio.gather(child(), asyncio.to_thread(raw_data_path))

    assert asyncio.run(go()) == [str(tmp_path), str(tmp_path)]
