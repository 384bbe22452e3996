# ruff: noqa: ASYNC240 - tests check small local files inline; blocking there is harmless
"""The storage contract: every backend (local disk, S3, GCS, Azure Blob) behaves alike.

Each test runs once per backend, against a real server on loopback, under a fresh base URI.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

import flyte.storage as storage

pytestmark = pytest.mark.asyncio(loop_scope="session")


def make_tree(root: Path) -> dict[str, bytes]:
    files = {"a.txt": b"alpha", "sub/b.bin": os.urandom(3000), "sub/deeper/c.txt": b"", "d e.txt": b"spaces"}
    for rel, data in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_bytes(data)
    return files


def read_tree(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in root.rglob("*") if p.is_file()}


async def test_put_then_get_returns_the_same_bytes(store: str, tmp_path: Path) -> None:
    src = tmp_path / "in.bin"
    src.write_bytes(b"x" * 100_000)
    uri = await storage.put(str(src), storage.join(store, "nested", "deep", "out.bin"))
    assert uri == storage.join(store, "nested", "deep", "out.bin")
    local = await storage.get(uri, str(tmp_path / "back" / "again.bin"))
    assert Path(local).read_bytes() == b"x" * 100_000


async def test_put_to_a_path_ending_in_a_separator_keeps_the_file_name(store: str, tmp_path: Path) -> None:
    src = tmp_path / "named.txt"
    src.write_bytes(b"n")
    uri = await storage.put(str(src), store + "/folder/")
    assert uri.endswith("/folder/named.txt")
    assert await storage.exists(uri)


async def test_get_into_an_existing_folder_keeps_the_file_name(store: str, tmp_path: Path) -> None:
    src = tmp_path / "f.txt"
    src.write_bytes(b"f")
    uri = await storage.put(str(src), storage.join(store, "f.txt"))
    target = tmp_path / "into"
    target.mkdir()
    assert Path(await storage.get(uri, str(target))) == target / "f.txt"
    assert (target / "f.txt").read_bytes() == b"f"


async def test_get_without_destination_writes_a_fresh_local_file(store: str, tmp_path: Path) -> None:
    src = tmp_path / "r.txt"
    src.write_bytes(b"random")
    uri = await storage.put(str(src), storage.join(store, "r.txt"))
    local = Path(await storage.get(uri))
    assert local.name == "r.txt"
    assert local.read_bytes() == b"random"


async def test_directory_round_trip_keeps_every_file_and_its_place(store: str, tmp_path: Path) -> None:
    files = make_tree(tmp_path / "tree")
    remote = storage.join(store, "dir")
    assert await storage.put(str(tmp_path / "tree"), remote, recursive=True, max_concurrency=3) == remote
    listed = await storage.list_files(remote)
    assert sorted(listed) == sorted(storage.join(remote, *rel.split("/")) for rel in files)
    out = await storage.get(remote, str(tmp_path / "copy"), recursive=True)
    assert read_tree(Path(out)) == files


async def test_exists_and_size_report_what_is_there(store: str, tmp_path: Path) -> None:
    src = tmp_path / "s.bin"
    src.write_bytes(b"12345")
    uri = await storage.put(str(src), storage.join(store, "s.bin"))
    assert await storage.exists(uri)
    assert await storage.size(uri) == 5
    assert not await storage.exists(storage.join(store, "nothing-here"))


async def test_get_of_a_missing_object_names_it(store: str, tmp_path: Path) -> None:
    missing = storage.join(store, "missing.bin")
    with pytest.raises(storage.StorageNotFoundError, match=r"missing\.bin") as caught:
        await storage.get(missing, str(tmp_path / "out.bin"))
    assert caught.value.uri == missing
    assert not (tmp_path / "out.bin").exists()
    assert list(tmp_path.iterdir()) == []  # no temporary file left behind


async def test_get_of_a_folder_without_recursive_is_refused(store: str, tmp_path: Path) -> None:
    make_tree(tmp_path / "tree")
    remote = await storage.put(str(tmp_path / "tree"), storage.join(store, "dir"), recursive=True)
    with pytest.raises(storage.InvalidStoragePathError, match=r"recursive=True"):
        await storage.get(remote, str(tmp_path / "out"))
    assert not (tmp_path / "out").exists()


async def test_recursive_get_of_a_file_is_refused(store: str, tmp_path: Path) -> None:
    (tmp_path / "one.txt").write_bytes(b"1")
    uri = await storage.put(str(tmp_path / "one.txt"), storage.join(store, "one.txt"))
    with pytest.raises(storage.InvalidStoragePathError, match="is a file"):
        await storage.get(uri, str(tmp_path / "out"), recursive=True)
    assert not (tmp_path / "out").exists()


async def test_put_of_a_folder_without_recursive_writes_nothing(store: str, tmp_path: Path) -> None:
    make_tree(tmp_path / "tree")
    target = storage.join(store, "dir")
    with pytest.raises(storage.InvalidStoragePathError, match=r"recursive=True"):
        await storage.put(str(tmp_path / "tree"), target)
    assert not await storage.exists(target)


async def test_open_streams_writes_and_reads_in_blocks(store: str) -> None:
    uri = storage.join(store, "stream", "data.bin")
    blocks = [bytes([i]) * 70_000 for i in range(5)]
    async with await storage.open(uri, "wb") as out:
        for block in blocks:
            await out.write(block)
    async with await storage.open(uri, "rb", block_size=64 * 1024) as f:
        assert f.size == 350_000
        assert await f.read(10) == b"\x00" * 10
        rest = [block async for block in f]
    assert b"\x00" * 10 + b"".join(rest) == b"".join(blocks)
    assert max(len(b) for b in rest) <= 64 * 1024


async def test_a_writer_left_by_an_exception_publishes_nothing(store: str) -> None:
    uri = storage.join(store, "never.bin")

    async def write_then_fail() -> None:
        async with await storage.open(uri, "wb") as out:
            await out.write(b"half")
            raise RuntimeError("producer failed")

    with pytest.raises(RuntimeError, match="producer failed"):
        await write_then_fail()
    assert not await storage.exists(uri)


async def test_a_failed_rewrite_keeps_the_previous_object(store: str) -> None:
    uri = await storage.put_stream(b"version 1", to_path=storage.join(store, "v.txt"))

    async def broken() -> AsyncIterator[bytes]:
        yield b"version 2 (partial)"
        raise ValueError("stream broke")

    with pytest.raises(ValueError, match="stream broke"):
        await storage.put_stream(broken(), to_path=uri)
    assert b"".join([c async for c in storage.get_stream(uri)]) == b"version 1"


async def test_put_stream_and_get_stream_round_trip(store: str) -> None:
    async def chunks() -> AsyncIterator[bytes]:
        for i in range(10):
            yield str(i).encode() * 1000

    uri = await storage.put_stream(chunks(), to_path=storage.join(store, "s", "chunks.txt"))
    got = [c async for c in storage.get_stream(uri, chunk_size=4096)]
    assert b"".join(got) == b"".join(str(i).encode() * 1000 for i in range(10))
    assert all(len(c) <= 4096 for c in got)


async def test_reading_a_missing_object_fails_at_open(store: str) -> None:
    with pytest.raises(storage.StorageNotFoundError):
        await storage.open(storage.join(store, "absent.bin"), "rb")


async def test_remove_deletes_a_file_and_refuses_a_folder_without_recursive(store: str, tmp_path: Path) -> None:
    make_tree(tmp_path / "tree")
    remote = await storage.put(str(tmp_path / "tree"), storage.join(store, "dir"), recursive=True)
    await storage.remove(storage.join(remote, "a.txt"))
    assert not await storage.exists(storage.join(remote, "a.txt"))
    with pytest.raises(storage.InvalidStoragePathError, match=r"recursive=True"):
        await storage.remove(remote)
    await storage.remove(remote, recursive=True)
    with pytest.raises(storage.StorageNotFoundError):
        await storage.list_files(remote)
