"""`.dockerignore` patterns behave as the Docker engine's do."""

from __future__ import annotations

from pathlib import Path

import pytest

from flyte.imagebuild._context import folder_files
from flyte.imagebuild._dockerignore import DockerIgnore


@pytest.mark.parametrize(
    ("patterns", "path", "excluded"),
    [
        ("*.log", "debug.log", True),
        ("*.log", "logs/debug.log", False),  # `*` stays in one segment
        ("**/*.log", "logs/deep/debug.log", True),
        ("**/*.log", "debug.log", True),  # `**/` matches zero folders too
        ("build", "build/out/a.o", True),  # a folder takes its contents along
        ("/build", "build/a.o", True),  # a leading slash is dropped
        ("./build/../build", "build/a.o", True),  # paths are cleaned
        ("doc?.md", "doc1.md", True),
        ("doc?.md", "doc10.md", False),
        ("[a-c].txt", "b.txt", True),
        ("[!a-c].txt", "b.txt", False),
        ("*.md\n!README.md", "README.md", False),  # an exception re-includes
        ("*.md\n!README.md\nREADME.md", "README.md", True),  # the last match wins
        ("# a comment\n\n", "anything", False),
    ],
)
def test_patterns_match_like_docker(patterns: str, path: str, excluded: bool):
    assert DockerIgnore.parse(patterns).excludes(path) is excluded


def test_the_folder_walk_keeps_what_the_dockerignore_keeps(tmp_path: Path):
    for rel in ["a.py", "pkg/b.py", "pkg/c.pyc", "node_modules/x/y.js", "docs/keep.md", "docs/drop.md"]:
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text(rel)
    (tmp_path / ".dockerignore").write_text("node_modules\n**/*.pyc\ndocs/*\n!docs/keep.md\n")

    names = [f.arcname for f in folder_files(tmp_path, "ctx/")]

    assert names == ["ctx/.dockerignore", "ctx/a.py", "ctx/docs/keep.md", "ctx/pkg/b.py"]


def test_a_missing_folder_is_reported(tmp_path: Path):
    with pytest.raises(FileNotFoundError, match="does not exist"):
        folder_files(tmp_path / "nope", "")
