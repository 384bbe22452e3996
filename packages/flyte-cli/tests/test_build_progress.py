"""`flyte build` on a private Docker engine: a step bar on a terminal, plain lines elsewhere.

The engine is `flyte.imagebuild.testing`'s private ``dockerd`` (the image tests' one); without
``dockerd``, the base image or a ``uv`` binary these tests skip with the reason.
"""

from __future__ import annotations

import textwrap
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from flyte.imagebuild import testing

from .test_live_view import ANSI, Terminal
from .test_remote_commands import clean_env, flyte


@pytest.fixture(scope="module")
def engine() -> Iterator[testing.Engine]:
    yield from testing.engine_for_tests(pytest.skip, pytest.fail)


def _envs_file(folder: Path) -> Path:
    name = f"t{uuid.uuid4().hex[:10]}"
    path = folder / "envs.py"
    path.write_text(
        textwrap.dedent(
            f"""
            from flyte.imagebuild import Image
            from flyte.runtime import TaskEnvironment

            image = (
                Image.from_base({testing.BASE_IMAGE!r})
                .clone(name={name!r}, extendable=True)
                .with_commands(["echo first-step", "sleep 1; echo second-step", "echo third-step"])
            )
            env = TaskEnvironment("env", image=image)
            """
        )
    )
    return path


def _env(engine: testing.Engine, tmp_path: Path) -> dict[str, str]:
    return {
        **clean_env(tmp_path),
        "DOCKER_HOST": engine.host,
        "FLYTE_IMAGEBUILD_NETWORK": "none",
        "FLYTE_IMAGEBUILD_BUILDKIT": "0",
        "FLYTE_IMAGEBUILD_RECORD_DIR": str(tmp_path / "record"),
    }


def test_a_build_on_a_terminal_shows_a_bar_over_its_steps(engine: testing.Engine, tmp_path: Path):
    file = _envs_file(tmp_path)
    env = {**_env(engine, tmp_path), "TERM": "xterm-256color", "COLUMNS": "120", "LINES": "40"}
    term = Terminal.finished(["build", str(file), "env"], env)
    screen = term.text
    assert "Building image" in screen
    assert "━" in screen  # the bar
    assert "step 3/4" in screen or "step 4/4" in screen  # the step count of the bar
    assert "second-step" in screen  # the last output line beside it
    assert "Step 1/" not in screen.splitlines()[-1]


def test_a_build_without_a_terminal_prints_plain_lines_on_stderr(engine: testing.Engine, tmp_path: Path):
    file = _envs_file(tmp_path)
    result = flyte("build", str(file), "env", env=_env(engine, tmp_path))
    assert result.returncode == 0, result.stderr
    assert "Step 1/4 : FROM" in result.stderr
    assert "second-step" in result.stderr
    assert not ANSI.search(result.stdout + result.stderr)
    assert "Building image" not in result.stderr
    assert "env" in result.stdout  # the table: environment and image
