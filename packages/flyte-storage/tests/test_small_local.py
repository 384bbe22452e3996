"""Small local files in one thread hop (``put_stream(bytes)``, ``get_stream``): the same results
and the same errors as the general path, chunking included."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

import flyte.storage as storage
from flyte.storage import InvalidStoragePathError, StorageConfigError, StorageNotFoundError

pytestmark = pytest.mark.asyncio


async def _read(uri: str, chunk_size: int = 8 * 2**20) -> list[bytes]:
    return [chunk async for chunk in storage.get_stream(uri, chunk_size=chunk_size)]


async def test_bytes_land_whole_under_their_name_with_no_temporary_left(tmp_path: Path) -> None:
    target = tmp_path / "a" / "b" / "outputs.pb"
    uri = await storage.put_stream(b"payload", to_path=str(target))
    assert uri == str(target)
    assert target.read_bytes() == b"payload"
    assert os.listdir(target.parent) == ["outputs.pb"]
    await storage.put_stream(b"second", to_path=f"file://{target}")  # replaced, atomically
    assert target.read_bytes() == b"second"
    assert os.listdir(target.parent) == ["outputs.pb"]


async def test_writing_bytes_where_a_folder_is_or_below_a_file_is_refused(tmp_path: Path) -> None:
    (tmp_path / "folder").mkdir()
    (tmp_path / "file").write_text("x")
    with pytest.raises(InvalidStoragePathError, match="is a directory"):
        await storage.put_stream(b"x", to_path=str(tmp_path / "folder"))
    with pytest.raises(InvalidStoragePathError, match="is a file, not a folder"):
        await storage.put_stream(b"x", to_path=str(tmp_path / "file" / "below.pb"))
    with pytest.raises(InvalidStoragePathError, match="ends with a separator"):
        await storage.put_stream(b"x", to_path=str(tmp_path / "new") + "/")
    assert sorted(os.listdir(tmp_path)) == ["file", "folder"]
    assert os.listdir(tmp_path / "folder") == []


async def test_a_small_file_reads_in_one_chunk_and_chunk_sizes_still_hold(tmp_path: Path) -> None:
    path = tmp_path / "f.bin"
    path.write_bytes(b"0123456789")
    assert await _read(str(path)) == [b"0123456789"]
    assert await _read(str(path), chunk_size=4) == [b"0123", b"4567", b"89"]
    (tmp_path / "empty").write_bytes(b"")
    assert await _read(str(tmp_path / "empty")) == []


async def test_a_file_above_the_small_limit_streams_in_chunks(tmp_path: Path) -> None:
    data = os.urandom(3 * 2**20 + 7)
    (tmp_path / "big").write_bytes(data)
    chunks = await _read(str(tmp_path / "big"), chunk_size=2**20)
    assert [len(c) for c in chunks] == [2**20, 2**20, 2**20, 7]
    assert b"".join(chunks) == data


async def test_reading_what_is_missing_or_a_folder_names_the_path(tmp_path: Path) -> None:
    with pytest.raises(StorageNotFoundError, match=r"nope\.pb"):
        await _read(str(tmp_path / "nope.pb"))
    with pytest.raises(InvalidStoragePathError, match="is a directory"):
        await _read(str(tmp_path))
    with pytest.raises(StorageConfigError, match="chunk_size"):
        await _read(str(tmp_path / "nope.pb"), chunk_size=0)
