"""Unpacking a bundle: a real project round trip, and the malicious-archive matrix.

Every hostile archive is a real tar file crafted with tarfile; each refusal must name the member
and the reason, and leave nothing behind.
"""

from __future__ import annotations

import gzip
import io
import os
import tarfile
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from flyte.errors import CodeBundleError
from flyte.runtime._bundle import build_tgz_bundle, extract_bundle

Member = tuple[tarfile.TarInfo, bytes]


def regular(name: str, data: bytes = b"x", mode: int = 0o644) -> Member:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    info.mode = mode
    return info, data


def special(name: str, kind: bytes, linkname: str = "") -> Member:
    info = tarfile.TarInfo(name)
    info.type = kind
    info.linkname = linkname
    return info, b""


def craft(path: Path, members: list[Member], *, compress: bool = True, fmt: int = tarfile.PAX_FORMAT) -> Path:
    """Write a tar (gzip'd unless told otherwise) holding exactly these members."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=fmt) as tar:
        for info, data in members:
            tar.addfile(info, io.BytesIO(data) if info.isreg() else None)
    raw = buf.getvalue()
    path.write_bytes(gzip.compress(raw) if compress else raw)
    return path


def patch_size(raw: bytes, header_offset: int, size: int) -> bytes:
    """Rewrite a ustar header's size field (and its checksum): a member that lies about its size."""
    header = bytearray(raw[header_offset : header_offset + 512])
    header[124:136] = b"%011o\0" % size
    header[148:156] = b" " * 8
    header[148:156] = b"%06o\0 " % sum(header)
    return raw[:header_offset] + bytes(header) + raw[header_offset + 512 :]


def leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


# --- the round trip --------------------------------------------------------------------------


def test_project_round_trips_through_build_and_extract(tmp_path: Path) -> None:
    project = {
        "main.py": "import pkg\n",
        "pkg/__init__.py": "",
        "pkg/mod.py": "VALUE = 1\n",
        "pkg/data/blob.bin": "\x00\x01" * 5000,
        "bin/tool": "#!/bin/sh\n",
        "deep/" + "x" * 120 + ".py": "",
        "unicod\u00e9/\u00fc.py": "",
    }
    src = tmp_path / "src"
    for rel, text in project.items():
        (src / rel).parent.mkdir(parents=True, exist_ok=True)
        (src / rel).write_text(text)
    (src / "bin" / "tool").chmod(0o755)
    bundle = build_tgz_bundle(src, tmp_path / "out")

    dest = extract_bundle(bundle.path, tmp_path / "dest")

    got = {str(p.relative_to(dest)): p.read_text() for p in dest.rglob("*") if p.is_file()}
    assert got == project
    assert os.access(dest / "bin" / "tool", os.X_OK)
    assert (dest / "pkg" / "mod.py").stat().st_mode & 0o777 == 0o644


def test_extracted_files_get_the_current_time_not_the_archive_epoch(tmp_path: Path) -> None:
    archive = craft(tmp_path / "b.tgz", [regular("a.py")])
    before = time.time() - 5

    dest = extract_bundle(archive, tmp_path / "dest")

    assert (dest / "a.py").stat().st_mtime > before


def test_extract_into_an_existing_folder_merges_and_replaces(tmp_path: Path) -> None:
    dest = tmp_path / "work"
    (dest / "pkg").mkdir(parents=True)
    (dest / "pkg" / "mod.py").write_text("old")
    (dest / "pkg" / "other.py").write_text("kept")
    (dest / "inputs.pb").write_text("kept")
    archive = craft(tmp_path / "b.tgz", [regular("pkg/mod.py", b"new"), regular("main.py", b"main")])

    assert extract_bundle(archive, dest) == dest.resolve()

    assert (dest / "pkg" / "mod.py").read_text() == "new"
    assert (dest / "pkg" / "other.py").read_text() == "kept"
    assert (dest / "inputs.pb").read_text() == "kept"
    assert (dest / "main.py").read_text() == "main"
    assert leftovers(dest) == ["inputs.pb", "main.py", "pkg"]  # no staging folder left


def test_extract_into_the_working_folder_as_a0_does(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    archive = craft(tmp_path / "b.tgz", [regular("main.py", b"print(1)")])
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)

    extract_bundle(archive, Path("."))

    assert (work / "main.py").read_text() == "print(1)"


def test_merge_never_writes_through_a_symlink_already_in_the_destination(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    dest = tmp_path / "dest"
    dest.mkdir()
    (dest / "pkg").symlink_to(outside, target_is_directory=True)
    archive = craft(tmp_path / "b.tgz", [regular("pkg/mod.py", b"x")])

    extract_bundle(archive, dest)

    assert leftovers(outside) == []
    assert not (dest / "pkg").is_symlink()
    assert (dest / "pkg" / "mod.py").read_bytes() == b"x"


def test_plain_uncompressed_tar_is_accepted(tmp_path: Path) -> None:
    archive = craft(tmp_path / "b.tar", [regular("a.py", b"A")], compress=False)

    assert (extract_bundle(archive, tmp_path / "d") / "a.py").read_bytes() == b"A"


def test_gnu_format_archive_with_folders_and_dot_entries_is_accepted(tmp_path: Path) -> None:
    folder = special("./", tarfile.DIRTYPE)
    pkg = special("./pkg/", tarfile.DIRTYPE)
    archive = craft(tmp_path / "b.tgz", [folder, pkg, regular("./pkg/a.py", b"A"), pkg], fmt=tarfile.GNU_FORMAT)

    dest = extract_bundle(archive, tmp_path / "d")

    assert (dest / "pkg" / "a.py").read_bytes() == b"A"


# --- the malicious-archive matrix ------------------------------------------------------------

HOSTILE: dict[str, tuple[Callable[[], list[Member]], str]] = {
    "absolute path": (lambda: [regular("/etc/evil.py")], r"'/etc/evil\.py' has an absolute path"),
    "windows drive path": (lambda: [regular("C:evil.py")], r"'C:evil\.py' has an absolute path"),
    "dotdot escape": (lambda: [regular("pkg/../../evil.py")], r"'pkg/\.\./\.\./evil\.py' has a '\.\.' component"),
    "dotdot inside": (lambda: [regular("a/../b.py")], r"'a/\.\./b\.py' has a '\.\.' component"),
    "backslash escape": (lambda: [regular("..\\evil.py")], r"backslash"),
    "symlink escape": (
        lambda: [special("link", tarfile.SYMTYPE, "../../etc"), regular("link/passwd")],
        r"'link' is a symlink \(to '\.\./\.\./etc'\)",
    ),
    "absolute symlink": (
        lambda: [special("passwd", tarfile.SYMTYPE, "/etc/passwd")],
        r"'passwd' is a symlink \(to '/etc/passwd'\)",
    ),
    "symlink inside dest": (
        lambda: [regular("real.py"), special("alias.py", tarfile.SYMTYPE, "real.py")],
        r"'alias\.py' is a symlink .*bundles may not contain links",
    ),
    "hardlink escape": (
        lambda: [special("shadow", tarfile.LNKTYPE, "../../etc/shadow")],
        r"'shadow' is a hard link \(to '\.\./\.\./etc/shadow'\)",
    ),
    "hardlink inside dest": (
        lambda: [regular("real.py"), special("copy.py", tarfile.LNKTYPE, "real.py")],
        r"'copy\.py' is a hard link",
    ),
    "character device": (lambda: [special("dev/null", tarfile.CHRTYPE)], r"'dev/null' is a device file"),
    "block device": (lambda: [special("dev/sda", tarfile.BLKTYPE)], r"'dev/sda' is a device file"),
    "fifo": (lambda: [special("pipe", tarfile.FIFOTYPE)], r"'pipe' is a fifo"),
    "duplicate file": (lambda: [regular("a.py"), regular("a.py")], r"'a\.py' appears twice"),
    "file then folder of the same name": (
        lambda: [regular("pkg"), regular("pkg/mod.py")],
        r"'pkg/mod\.py' needs a folder where the archive already put a file",
    ),
}


@pytest.mark.parametrize("case", sorted(HOSTILE))
def test_hostile_member_is_refused_with_its_name_and_reason(tmp_path: Path, case: str) -> None:
    make, message = HOSTILE[case]
    archive = craft(tmp_path / "evil.tgz", [regular("good.py"), *make()])

    with pytest.raises(CodeBundleError, match=message) as caught:
        extract_bundle(archive, tmp_path / "dest")

    assert str(archive) in str(caught.value)
    assert leftovers(tmp_path) == ["evil.tgz"]  # no dest, no staging folder, nothing outside


def test_refused_archive_leaves_an_existing_destination_untouched(tmp_path: Path) -> None:
    dest = tmp_path / "dest"
    dest.mkdir()
    (dest / "good.py").write_text("mine")
    archive = craft(tmp_path / "evil.tgz", [regular("good.py", b"theirs"), regular("new.py"), regular("/abs.py")])

    with pytest.raises(CodeBundleError, match="absolute path"):
        extract_bundle(archive, dest)

    assert leftovers(dest) == ["good.py"]
    assert (dest / "good.py").read_text() == "mine"


def test_member_larger_than_max_bytes_is_refused_before_it_is_written(tmp_path: Path) -> None:
    archive = craft(tmp_path / "big.tgz", [regular("zeros.bin", bytes(2_000_000))])

    with pytest.raises(CodeBundleError, match=r"'zeros\.bin' declares 2000000 bytes, beyond the limit of 1000000"):
        extract_bundle(archive, tmp_path / "dest", max_bytes=1_000_000)
    assert leftovers(tmp_path) == ["big.tgz"]


def test_members_adding_up_past_max_bytes_are_refused(tmp_path: Path) -> None:
    archive = craft(tmp_path / "b.tgz", [regular(f"f{i}.bin", bytes(400)) for i in range(3)])

    with pytest.raises(CodeBundleError, match=r"'f2\.bin' declares 400 bytes, beyond the limit of 1000"):
        extract_bundle(archive, tmp_path / "dest", max_bytes=1000)
    assert leftovers(tmp_path) == ["b.tgz"]


def test_many_tiny_files_past_max_files_are_refused(tmp_path: Path) -> None:
    archive = craft(tmp_path / "bomb.tgz", [regular(f"f{i:05}", b"") for i in range(2000)])
    assert archive.stat().st_size < 40_000  # tiny on disk, thousands of inodes when unpacked

    with pytest.raises(CodeBundleError, match=r"'f01000' exceeds the limit of 1000 members \(max_files\)"):
        extract_bundle(archive, tmp_path / "dest", max_files=1000)
    assert leftovers(tmp_path) == ["bomb.tgz"]


def test_bomb_hidden_in_a_pax_header_is_stopped_by_the_stream_limit(tmp_path: Path) -> None:
    info, data = regular("a.py")
    info.pax_headers = {"comment": "A" * 5_000_000}  # tarfile would read it all into memory
    archive = craft(tmp_path / "bomb.tgz", [(info, data)])
    assert archive.stat().st_size < 50_000

    with pytest.raises(CodeBundleError, match=r"unpacks to more than \d+ bytes of tar data"):
        extract_bundle(archive, tmp_path / "dest", max_bytes=1000, max_files=10)
    assert leftovers(tmp_path) == ["bomb.tgz"]


def test_member_declaring_fewer_bytes_than_it_holds_is_refused(tmp_path: Path) -> None:
    # Python's tarfile silently stops at the garbage this leaves where the next header should be.
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.USTAR_FORMAT) as tar:
        for info, data in [regular("liar.py", b"#" * 3000), regular("after.py", b"lost")]:
            tar.addfile(info, io.BytesIO(data))
    archive = tmp_path / "liar.tgz"
    archive.write_bytes(gzip.compress(patch_size(buf.getvalue(), 0, 10)))

    with pytest.raises(CodeBundleError, match=r"does not end cleanly .*header does not match its data"):
        extract_bundle(archive, tmp_path / "dest")
    assert leftovers(tmp_path) == ["liar.tgz"]


def test_member_declaring_more_bytes_than_the_archive_holds_is_refused(tmp_path: Path) -> None:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.USTAR_FORMAT) as tar:
        info, data = regular("liar.py", b"#" * 100)
        tar.addfile(info, io.BytesIO(data))
    archive = tmp_path / "liar.tgz"
    archive.write_bytes(gzip.compress(patch_size(buf.getvalue(), 0, 50_000)))

    with pytest.raises(CodeBundleError, match=r"liar\.tgz: it is not a valid tar archive"):
        extract_bundle(archive, tmp_path / "dest")
    assert leftovers(tmp_path) == ["liar.tgz"]


def test_archive_truncated_at_a_member_boundary_is_refused(tmp_path: Path) -> None:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.USTAR_FORMAT) as tar:
        for info, data in [regular("a.py", b"a" * 512), regular("b.py", b"b" * 512)]:
            tar.addfile(info, io.BytesIO(data))
    archive = tmp_path / "cut.tar"
    archive.write_bytes(buf.getvalue()[:1024])  # a.py complete; b.py and the end blocks gone

    with pytest.raises(CodeBundleError, match=r"does not end cleanly"):
        extract_bundle(archive, tmp_path / "dest")


def test_truncated_gzip_stream_is_refused(tmp_path: Path) -> None:
    archive = craft(tmp_path / "b.tgz", [regular("a.py", os.urandom(20_000))])
    archive.write_bytes(archive.read_bytes()[:-5000])

    with pytest.raises(CodeBundleError, match=r"b\.tgz: it is not a valid tar archive"):
        extract_bundle(archive, tmp_path / "dest")
    assert leftovers(tmp_path) == ["b.tgz"]


def test_garbage_is_refused(tmp_path: Path) -> None:
    archive = tmp_path / "junk.tgz"
    archive.write_bytes(b"this is not an archive at all" * 40)

    with pytest.raises(CodeBundleError, match=r"junk\.tgz: it is not a valid tar archive"):
        extract_bundle(archive, tmp_path / "dest")


def test_missing_archive_is_named(tmp_path: Path) -> None:
    with pytest.raises(CodeBundleError, match=r"nope\.tgz does not exist"):
        extract_bundle(tmp_path / "nope.tgz", tmp_path / "dest")


def test_destination_that_is_a_file_is_refused(tmp_path: Path) -> None:
    archive = craft(tmp_path / "b.tgz", [regular("a.py")])
    (tmp_path / "dest").write_text("")

    with pytest.raises(CodeBundleError, match=r"dest: it is not a folder"):
        extract_bundle(archive, tmp_path / "dest")


def test_setuid_and_other_mode_bits_are_dropped(tmp_path: Path) -> None:
    archive = craft(tmp_path / "b.tgz", [regular("run", b"#!/bin/sh\n", mode=0o6777), regular("data", mode=0o666)])

    dest = extract_bundle(archive, tmp_path / "dest")

    assert (dest / "run").stat().st_mode & 0o7777 == 0o755
    assert (dest / "data").stat().st_mode & 0o7777 == 0o644
