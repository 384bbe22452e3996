"""The tag is a content hash: the same spec gives the same tag anywhere, any input change a new one."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import flyte.imagebuild as ib


def _base() -> ib.Image:
    return ib.Image.from_debian_base(python_version=(3, 12), install_flyte=False, registry="localhost:5000", name="app")


def _tag(image: ib.Image) -> str:
    return image.uri.rsplit(":", 1)[1]


def test_the_uri_is_registry_name_and_a_32_character_hash():
    registry, rest = _base().uri.split("/", 1)
    name, tag = rest.split(":")
    assert (registry, name, len(tag)) == ("localhost:5000", "app", 32)


def test_the_same_spec_built_twice_has_the_same_tag():
    assert _base().with_pip_packages("numpy").uri == _base().with_pip_packages("numpy").uri


@pytest.mark.parametrize(
    "change",
    [
        lambda i: i.with_pip_packages("numpy"),
        lambda i: i.with_apt_packages("curl"),
        lambda i: i.with_commands(["echo hi"]),
        lambda i: i.with_env_vars({"A": "1"}),
        lambda i: i.with_workdir("/srv"),
        lambda i: i.clone(base_image="python:3.12-slim"),
        lambda i: i.clone(python_version=(3, 11)),
        lambda i: i.clone(platform=("linux/arm64",)),
    ],
    ids=["pip", "apt", "commands", "env", "workdir", "base", "python", "platform"],
)
def test_every_kind_of_change_changes_the_tag(change):  # type: ignore[no-untyped-def]
    assert _tag(change(_base())) != _tag(_base())


def test_parameters_of_a_layer_are_part_of_the_tag():
    one = _base().with_pip_packages("numpy", index_url="https://a.example/simple")
    other = _base().with_pip_packages("numpy", index_url="https://b.example/simple")
    assert _tag(one) != _tag(other)


def test_layer_order_is_part_of_the_tag():
    assert _tag(_base().with_env_vars({"A": "1"}).with_workdir("/x")) != _tag(
        _base().with_workdir("/x").with_env_vars({"A": "1"})
    )


def test_registry_and_name_are_not_part_of_the_tag():
    image = _base().with_pip_packages("numpy")
    clone = image.clone(registry="ghcr.io/org", name="other")
    assert _tag(clone) == _tag(image)
    assert clone.uri == f"ghcr.io/org/other:{_tag(image)}"


def test_a_changed_requirement_changes_the_tag(tmp_path: Path):
    requirements = tmp_path / "requirements.txt"
    requirements.write_text("probe==1.0\n")
    before = _base().with_requirements(requirements).uri
    requirements.write_text("probe==1.1\n")
    assert _base().with_requirements(requirements).uri != before


def test_a_source_folder_changes_the_tag_by_content_not_by_time(tmp_path: Path):
    src = tmp_path / "app"
    src.mkdir()
    (src / "main.py").write_text("print(1)\n")
    before = _base().with_source_folder(src).uri
    os.utime(src / "main.py", (1, 1))
    assert _base().with_source_folder(src).uri == before
    (src / "main.py").write_text("print(2)\n")
    assert _base().with_source_folder(src).uri != before


def test_remembered_digests_are_used_only_for_unchanged_files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    from flyte.imagebuild import _context

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    src = tmp_path / "app"
    (src / "pkg").mkdir(parents=True)
    for i in range(50):
        (src / "pkg" / f"m{i}.py").write_text(f"x = {i}\n")
        os.utime(src / "pkg" / f"m{i}.py", (1, 1))  # old enough to be remembered
    first = _base().with_source_folder(src).uri
    hashed: list[str] = []
    real = _context.file_digest
    monkeypatch.setattr(_context, "file_digest", lambda path, st: hashed.append(path) or real(path, st))

    assert _base().with_source_folder(src).uri == first
    assert hashed == []  # every digest came from the cache
    (src / "pkg" / "m7.py").write_text("x = 700\n")  # same size class, new content and mtime
    changed = _base().with_source_folder(src).uri
    assert changed != first
    assert hashed == [str(src / "pkg" / "m7.py")]
    (src / "pkg" / "m7.py").write_text("x = 7\n")
    os.utime(src / "pkg" / "m7.py", (1, 1))
    assert _base().with_source_folder(src).uri == first  # back to the first content: the first tag


def test_the_exec_bit_of_a_source_file_is_part_of_the_tag(tmp_path: Path):
    script = tmp_path / "run.sh"
    script.write_text("echo\n")
    before = _base().with_source_file(script).uri
    script.chmod(0o755)
    assert _base().with_source_file(script).uri != before


def test_dockerignored_files_do_not_change_the_tag(tmp_path: Path):
    src = tmp_path / "app"
    (src / "build").mkdir(parents=True)
    (src / "main.py").write_text("print(1)\n")
    (src / ".dockerignore").write_text("build/\n*.log\n")
    before = _base().with_source_folder(src).uri
    (src / "build" / "artifact.bin").write_bytes(b"\0" * 100)
    (src / "debug.log").write_text("noise\n")
    assert _base().with_source_folder(src).uri == before
    (src / "new.py").write_text("x = 1\n")
    assert _base().with_source_folder(src).uri != before


def test_with_dockerignore_applies_to_later_source_layers(tmp_path: Path):
    src = tmp_path / "app"
    src.mkdir()
    (src / "main.py").write_text("print(1)\n")
    ignore = tmp_path / "ignore"
    ignore.write_text("*.tmp\n")
    before = _base().with_dockerignore(ignore).with_source_folder(src).uri
    plain_before = _base().with_source_folder(src).uri
    (src / "scratch.tmp").write_text("x")
    assert _base().with_dockerignore(ignore).with_source_folder(src).uri == before
    assert _base().with_source_folder(src).uri != plain_before


def test_a_dockerfile_image_hashes_its_context_minus_dockerignore(tmp_path: Path):
    (tmp_path / "Dockerfile").write_text("FROM scratch\nCOPY a.txt /\n")
    (tmp_path / "a.txt").write_text("a")
    (tmp_path / ".dockerignore").write_text("*.log\n")

    def uri() -> str:
        return ib.Image.from_dockerfile(tmp_path / "Dockerfile", registry="r.example", name="d").uri

    before = uri()
    (tmp_path / "x.log").write_text("noise")
    assert uri() == before
    (tmp_path / "a.txt").write_text("b")
    assert uri() != before


def test_the_same_spec_in_another_folder_and_process_has_the_same_tag(tmp_path: Path):
    here = tmp_path / "one"
    (here / "app").mkdir(parents=True)
    (here / "app" / "main.py").write_text("print(1)\n")
    (here / "requirements.txt").write_text("numpy\n")
    there = tmp_path / "two"
    shutil.copytree(here, there)
    program = (
        "import sys, flyte.imagebuild as ib\n"
        "root = sys.argv[1]\n"
        "i = ib.Image.from_debian_base(python_version=(3, 12), install_flyte=False, name='app')\n"
        "print(i.with_requirements(root + '/requirements.txt').with_source_folder(root + '/app').uri)\n"
    )
    tags = {
        subprocess.run([sys.executable, "-c", program, str(p)], capture_output=True, text=True, check=True).stdout
        for p in (here, there)
    }
    assert len(tags) == 1


def test_a_from_base_image_used_as_is_needs_no_build():
    image = ib.Image.from_base("python:3.12-slim")
    assert (image.needs_build, image.uri) == (False, "python:3.12-slim")
    result = ib.build(image)
    assert (result.built, result.found_in, result.uri) == (False, "base", "python:3.12-slim")


def test_a_uv_script_hashes_its_dependencies_not_its_code(tmp_path: Path):
    script = tmp_path / "job.py"
    header = '# /// script\n# requires-python = ">=3.11"\n# dependencies = ["requests"]\n# ///\n'
    script.write_text(header + "print(1)\n")

    def uri() -> str:
        return ib.Image.from_uv_script(script, name="job", python_version=(3, 12)).uri

    before = uri()
    script.write_text(header + "print(2)\n")
    assert uri() == before
    script.write_text(header.replace('"requests"', '"requests", "rich"') + "print(2)\n")
    assert uri() != before
