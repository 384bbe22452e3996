"""A warm worker's in-memory bundles (``_bundle/_memo.py``): the files a child writes from memory
must be exactly what unpacking the archive gives, and the memo must never stand in for an
archive that changed, failed its checks, or is refused by the caller's limits.

Children are real forks, as the warm worker makes them: the parent preloads, the child unpacks.
"""

from __future__ import annotations

import importlib
import os
import sys
import tarfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from flyte.errors import CodeBundleError
from flyte.runtime._bundle import _memo, build_tgz_bundle, extract_bundle


@pytest.fixture(autouse=True)
def empty_memo() -> Iterator[None]:
    _memo.forget()
    yield
    _memo.forget()


def _project(root: Path) -> Path:
    (root / "pkg" / "sub").mkdir(parents=True)
    (root / "main_mod.py").write_text("VALUE = 41 + 1\n")
    (root / "pkg" / "__init__.py").write_text("")
    (root / "pkg" / "sub" / "leaf.py").write_text("def f():\n    return 'leaf'\n")
    (root / "pkg" / "broken.py").write_text("def (:\n")  # does not compile: no bytecode, still shipped
    (root / "data.txt").write_text("payload")
    (root / "run.sh").write_text("#!/bin/sh\n")
    (root / "run.sh").chmod(0o755)
    return root


def _tree(root: Path) -> dict[str, tuple[bytes | None, int]]:
    out: dict[str, tuple[bytes | None, int]] = {}
    for path in sorted(root.rglob("*")):
        rel = path.relative_to(root).as_posix()
        out[rel] = (None if path.is_dir() else path.read_bytes(), path.stat().st_mode & 0o777)
    return out


def _unpack_in_child(archive: Path, dest: Path, *, dont_write_bytecode: bool = False) -> str:
    """Fork (as the warm worker does), unpack in the child; returns "ok" or the child's error."""
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: report and leave without running any cleanup of the parent's
        os.close(read)
        try:
            sys.dont_write_bytecode = dont_write_bytecode
            extract_bundle(archive, dest)
            message = "ok"
        except BaseException as e:
            message = f"{type(e).__name__}: {e}"
        os.write(write, message.encode())
        os._exit(0)
    os.close(write)
    with os.fdopen(read, "rb") as f:
        message = f.read().decode()
    os.waitpid(pid, 0)
    return message


@pytest.fixture
def bundle(tmp_path: Path) -> Path:
    return build_tgz_bundle(_project(tmp_path / "src"), tmp_path / "out").path


def test_a_child_writes_the_same_files_from_memory_plus_checked_bytecode(bundle: Path, tmp_path: Path):
    plain = extract_bundle(bundle, tmp_path / "plain")
    unpacked = _memo.preload(str(bundle))
    assert unpacked is not None
    (tmp_path / "memo").mkdir()  # as a0's working folder: it exists, and is merged into
    assert _unpack_in_child(bundle, tmp_path / "memo") == "ok"

    from_memory = _tree(tmp_path / "memo")
    bytecode = {k: v for k, v in from_memory.items() if "__pycache__" in k}
    assert {k: v for k, v in from_memory.items() if "__pycache__" not in k} == _tree(plain)
    cache_tag = sys.implementation.cache_tag
    assert set(bytecode) == {
        "__pycache__",
        f"__pycache__/main_mod.{cache_tag}.pyc",
        "pkg/__pycache__",
        f"pkg/__pycache__/__init__.{cache_tag}.pyc",
        "pkg/sub/__pycache__",
        f"pkg/sub/__pycache__/leaf.{cache_tag}.pyc",
    }
    # Hash-checked bytecode: flags word 0b11 (hash-based, check source).
    pyc = (tmp_path / "memo" / f"__pycache__/main_mod.{cache_tag}.pyc").read_bytes()
    assert int.from_bytes(pyc[4:8], "little") == 0b11


def test_the_bytecode_is_used_and_names_the_childs_own_file(bundle: Path, tmp_path: Path):
    _memo.preload(str(bundle))
    dest = tmp_path / "attempt"
    assert _unpack_in_child(bundle, dest) == "ok"
    sys.path.insert(0, str(dest))
    try:
        module = importlib.import_module("pkg.sub.leaf")
        assert module.f() == "leaf"
        assert module.f.__code__.co_filename == str(dest / "pkg" / "sub" / "leaf.py")
        assert module.__cached__ == str(
            dest / "pkg" / "sub" / "__pycache__" / f"leaf.{sys.implementation.cache_tag}.pyc"
        )
    finally:
        sys.path.remove(str(dest))
        for name in ("pkg.sub.leaf", "pkg.sub", "pkg"):
            sys.modules.pop(name, None)


def test_no_bytecode_is_written_when_python_writes_none(bundle: Path, tmp_path: Path):
    _memo.preload(str(bundle))
    assert _unpack_in_child(bundle, tmp_path / "d", dont_write_bytecode=True) == "ok"
    assert not list((tmp_path / "d").rglob("__pycache__"))
    assert (tmp_path / "d" / "data.txt").read_text() == "payload"


def test_an_archive_replaced_since_the_preload_is_unpacked_afresh(bundle: Path, tmp_path: Path):
    _memo.preload(str(bundle))
    other = _project(tmp_path / "src2")
    (other / "data.txt").write_text("changed")
    replacement = build_tgz_bundle(other, tmp_path / "out2").path
    os.replace(replacement, bundle)  # same path, another file
    assert _memo.lookup(bundle) is None
    assert _unpack_in_child(bundle, tmp_path / "d") == "ok"
    assert (tmp_path / "d" / "data.txt").read_text() == "changed"


def test_a_refused_archive_is_not_remembered_and_the_child_gets_the_error(tmp_path: Path):
    evil = tmp_path / "fastevil.tar.gz"
    with tarfile.open(evil, "w:gz") as tar:
        info = tarfile.TarInfo("../escape.py")
        tar.addfile(info)
    assert _memo.preload(str(evil)) is None
    assert _memo.lookup(evil) is None
    message = _unpack_in_child(evil, tmp_path / "d")
    assert message.startswith("CodeBundleError")
    assert "'../escape.py'" in message
    assert not (tmp_path / "escape.py").exists()


def test_the_callers_limits_still_apply_to_a_remembered_archive(bundle: Path, tmp_path: Path):
    _memo.preload(str(bundle))
    with pytest.raises(CodeBundleError, match="max_files"):
        extract_bundle(bundle, tmp_path / "d", max_files=2)
    assert not (tmp_path / "d").exists()


def test_only_local_files_are_preloaded_and_the_memo_is_bounded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    assert _memo.preload("s3://bucket/fast123.tar.gz") is None
    assert _memo.preload("relative/fast.tar.gz") is None
    assert _memo.preload(str(tmp_path / "missing.tar.gz")) is None
    monkeypatch.setattr(_memo, "MAX_BUNDLES", 2)
    archives = []
    for i in range(3):
        src = tmp_path / f"p{i}"
        src.mkdir()
        (src / "m.py").write_text(f"X = {i}\n")
        archives.append(build_tgz_bundle(src, tmp_path / f"o{i}").path)
        assert _memo.preload(f"file://{archives[-1]}") is not None
    assert _memo.lookup(archives[0]) is None  # the least recently used one went
    assert _memo.lookup(archives[1]) is not None
    assert _memo.lookup(archives[2]) is not None
