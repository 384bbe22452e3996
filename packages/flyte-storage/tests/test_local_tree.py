"""Folder copies on local disk (put and get between local paths): made with a few threads, each
file still written under a temporary name and renamed, and a clear error when something is in
the way."""

from __future__ import annotations

from pathlib import Path

import pytest

import flyte.storage as storage

pytestmark = pytest.mark.asyncio


def _tree(root: Path, count: int) -> dict[str, bytes]:
    files = {f"d{i % 7}/sub{i % 3}/f{i:03d}.bin": bytes([i % 256]) * (i + 1) for i in range(count)}
    for rel, data in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_bytes(data)
    return files


def _read(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in root.rglob("*") if p.is_file()}


@pytest.mark.parametrize("max_concurrency", [1, 3, 32])
async def test_a_local_folder_copy_keeps_every_file(max_concurrency: int, tmp_path: Path) -> None:
    files = _tree(tmp_path / "src", 150)
    await storage.put(str(tmp_path / "src"), str(tmp_path / "put"), recursive=True, max_concurrency=max_concurrency)
    await storage.get(str(tmp_path / "put"), str(tmp_path / "got"), recursive=True, max_concurrency=max_concurrency)
    assert _read(tmp_path / "put") == files
    assert _read(tmp_path / "got") == files


async def test_a_folder_where_a_file_goes_is_named_and_no_temporary_file_is_left(tmp_path: Path) -> None:
    _tree(tmp_path / "src", 40)
    (tmp_path / "dst" / "d3" / "sub1" / "f010.bin").mkdir(parents=True)  # a folder in the way
    with pytest.raises(storage.InvalidStoragePathError, match=r"f010\.bin.*is a directory"):
        await storage.put(str(tmp_path / "src"), str(tmp_path / "dst"), recursive=True)
    assert list((tmp_path / "dst").rglob("*.part")) == []


async def test_a_file_where_a_folder_goes_is_refused_before_anything_is_copied(tmp_path: Path) -> None:
    _tree(tmp_path / "src", 20)
    (tmp_path / "dst").mkdir()
    (tmp_path / "dst" / "d2").write_bytes(b"a file, not a folder")
    with pytest.raises(storage.InvalidStoragePathError, match=r"is a file, not a folder"):
        await storage.get(str(tmp_path / "src"), str(tmp_path / "dst"), recursive=True)
    assert sorted(p.name for p in (tmp_path / "dst").rglob("*") if p.is_file()) == ["d2"]
