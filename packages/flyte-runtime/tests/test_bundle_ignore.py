"""Which files a tgz bundle holds: .gitignore / .flyteignore semantics and what is never shipped."""

from __future__ import annotations

from pathlib import Path

from flyte.runtime._bundle import list_bundle_files


def tree(root: Path, files: dict[str, str]) -> Path:
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root


def test_root_gitignore_excludes_files_and_keeps_the_rest(tmp_path: Path) -> None:
    root = tree(tmp_path, {".gitignore": "*.log\n", "app.py": "", "debug.log": "", "sub/trace.log": ""})

    assert list_bundle_files(root) == [".gitignore", "app.py"]


def test_negation_reincludes_a_file(tmp_path: Path) -> None:
    root = tree(tmp_path, {".gitignore": "*.log\n!keep.log\n", "keep.log": "", "drop.log": ""})

    assert list_bundle_files(root) == [".gitignore", "keep.log"]


def test_last_matching_pattern_wins(tmp_path: Path) -> None:
    root = tree(tmp_path, {".gitignore": "!keep.log\n*.log\n", "keep.log": ""})

    assert list_bundle_files(root) == [".gitignore"]


def test_directory_pattern_matches_folders_only(tmp_path: Path) -> None:
    root = tree(tmp_path, {".gitignore": "build/\n", "build/out.bin": "", "src/build": "a file named build"})

    assert list_bundle_files(root) == [".gitignore", "src/build"]


def test_anchored_pattern_matches_at_its_own_level_only(tmp_path: Path) -> None:
    root = tree(tmp_path, {".gitignore": "/config.py\n", "config.py": "", "pkg/config.py": ""})

    assert list_bundle_files(root) == [".gitignore", "pkg/config.py"]


def test_nested_gitignore_is_relative_to_its_folder(tmp_path: Path) -> None:
    root = tree(
        tmp_path,
        {
            "pkg/.gitignore": "/local.py\ngenerated/\n",
            "pkg/local.py": "",
            "pkg/sub/local.py": "",
            "pkg/generated/x.py": "",
            "local.py": "",
            "generated/y.py": "",
        },
    )

    assert list_bundle_files(root) == ["generated/y.py", "local.py", "pkg/.gitignore", "pkg/sub/local.py"]


def test_nested_negation_overrides_a_parent_pattern(tmp_path: Path) -> None:
    root = tree(
        tmp_path,
        {".gitignore": "*.json\n", "a.json": "", "schemas/.gitignore": "!*.json\n", "schemas/s.json": ""},
    )

    assert list_bundle_files(root) == [".gitignore", "schemas/.gitignore", "schemas/s.json"]


def test_nothing_below_an_ignored_folder_can_be_reincluded(tmp_path: Path) -> None:
    root = tree(tmp_path, {".gitignore": "cache/\n!cache/keep.py\n", "cache/keep.py": ""})

    assert list_bundle_files(root) == [".gitignore"]


def test_flyteignore_excludes_what_git_tracks(tmp_path: Path) -> None:
    root = tree(tmp_path, {".flyteignore": "tests/\n", "app.py": "", "tests/test_app.py": ""})

    assert list_bundle_files(root) == [".flyteignore", "app.py"]


def test_flyteignore_can_reinclude_what_gitignore_excludes(tmp_path: Path) -> None:
    root = tree(
        tmp_path,
        {".gitignore": "models/\n*.env\n", ".flyteignore": "!models/\n", "models/weights.txt": "", "x.env": ""},
    )

    assert list_bundle_files(root) == [".flyteignore", ".gitignore", "models/weights.txt"]


def test_nested_flyteignore_applies_below_its_folder(tmp_path: Path) -> None:
    root = tree(tmp_path, {"pkg/.flyteignore": "*.csv\n", "pkg/data.csv": "", "data.csv": ""})

    assert list_bundle_files(root) == ["data.csv", "pkg/.flyteignore"]


def test_extra_ignores_apply_at_the_root(tmp_path: Path) -> None:
    root = tree(tmp_path, {"app.py": "", "notes.md": "", "docs/a.md": ""})

    assert list_bundle_files(root, extra_ignores=["*.md"]) == ["app.py"]


def test_invalid_pattern_is_skipped_like_git_does(tmp_path: Path) -> None:
    root = tree(tmp_path, {".gitignore": "!\n*.log\n", "a.log": "", "app.py": ""})

    assert list_bundle_files(root) == [".gitignore", "app.py"]


def test_git_metadata_caches_and_bytecode_are_never_shipped(tmp_path: Path) -> None:
    root = tree(
        tmp_path,
        {
            ".git/HEAD": "ref: refs/heads/main\n",
            "sub/.git": "gitdir: ../.git/modules/sub\n",  # a submodule's .git is a file
            "pkg/__pycache__/mod.cpython-311.pyc": "",
            "pkg/old.pyc": "",
            "node_modules/left-pad/index.js": "",
            "pkg/mod.py": "",
        },
    )

    assert list_bundle_files(root) == ["pkg/mod.py"]


def test_never_shipped_entries_cannot_be_reincluded(tmp_path: Path) -> None:
    root = tree(tmp_path, {".flyteignore": "!__pycache__/\n!*.pyc\n", "__pycache__/a.pyc": "", "b.pyc": ""})

    assert list_bundle_files(root) == [".flyteignore"]


def test_dot_venv_is_skipped(tmp_path: Path) -> None:
    root = tree(tmp_path, {".venv/lib/site.py": "", "app.py": ""})

    assert list_bundle_files(root) == ["app.py"]


def test_a_virtualenv_under_any_name_is_skipped(tmp_path: Path) -> None:
    root = tree(
        tmp_path,
        {"envs/py311/pyvenv.cfg": "home = /usr/bin\n", "envs/py311/lib/x.py": "", "envs/readme.md": ""},
    )

    assert list_bundle_files(root) == ["envs/readme.md"]


def test_symlink_to_a_virtualenv_outside_the_root_is_skipped(tmp_path: Path) -> None:
    venv = tree(tmp_path / "venvs" / "proj", {"pyvenv.cfg": "home = /usr/bin\n", "bin/python": ""})
    root = tree(tmp_path / "proj", {"app.py": ""})
    (root / "env").symlink_to(venv, target_is_directory=True)

    assert list_bundle_files(root) == ["app.py"]


def test_a_pyvenv_cfg_at_the_root_itself_does_not_empty_the_bundle(tmp_path: Path) -> None:
    root = tree(tmp_path, {"pyvenv.cfg": "", "app.py": ""})

    assert list_bundle_files(root) == ["app.py", "pyvenv.cfg"]


def test_ignore_files_above_the_root_are_not_read(tmp_path: Path) -> None:
    tree(tmp_path, {".gitignore": "*.py\n"})
    root = tree(tmp_path / "proj", {"app.py": ""})

    assert list_bundle_files(root) == ["app.py"]
