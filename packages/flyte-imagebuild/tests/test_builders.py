"""The builder registry: built-in, registered, and plugins found through entry points."""

from __future__ import annotations

import logging
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

import flyte.imagebuild as ib
from flyte.imagebuild import _builder


class RecordingBuilder:
    """A builder that builds nothing and remembers what it was asked."""

    def __init__(self) -> None:
        self.asked: list[str] = []

    def record_scope(self) -> str:
        return "recording"

    async def build_image(self, image: ib.Image, dry_run: bool = False, force: bool = False) -> ib.ImageBuild:
        self.asked.append(image.uri)
        return ib.ImageBuild(image.uri, built=True)


@pytest.fixture
def plugin_path(tmp_path: Path) -> Iterator[Path]:
    """An installed distribution offering two builder plugins, one of them broken."""
    (tmp_path / "my_builders.py").write_text(
        textwrap.dedent(
            """
            import flyte.imagebuild as ib

            class EchoBuilder:
                def record_scope(self):
                    return "echo"

                async def build_image(self, image, dry_run=False, force=False):
                    return ib.ImageBuild(image.uri, built=True, found_in=None)
            """
        )
    )
    info = tmp_path / "my_builders-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: my-builders\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text(
        f"[{ib.ENTRY_POINT_GROUP}]\necho = my_builders:EchoBuilder\nbroken = no_such_module:Builder\n"
    )
    sys.path.insert(0, str(tmp_path))
    saved = dict(_builder._factories)
    _builder._entry_points_loaded = False
    yield tmp_path
    sys.path.remove(str(tmp_path))
    sys.modules.pop("my_builders", None)
    _builder._factories.clear()
    _builder._factories.update(saved)
    _builder._entry_points_loaded = False


def test_local_is_the_default_builder(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.delenv("FLYTE_IMAGE_BUILDER", raising=False)
    assert isinstance(ib.get_builder(), ib.DockerBuilder)


def test_a_registered_builder_is_used_by_name(monkeypatch: pytest.MonkeyPatch):
    recording = RecordingBuilder()
    monkeypatch.setitem(_builder._factories, "recording", lambda: recording)
    image = ib.Image.from_debian_base(install_flyte=False, name="app")

    result = ib.build(image, builder="recording")

    assert (result.built, recording.asked) == (True, [image.uri])
    assert ib.build(image, builder="recording").found_in == "record"  # recorded under its scope


def test_a_plugin_builder_is_found_through_its_entry_point(plugin_path: Path, caplog: pytest.LogCaptureFixture):
    with caplog.at_level(logging.WARNING, logger="flyte.imagebuild"):
        builder = ib.get_builder("echo")

    assert type(builder).__name__ == "EchoBuilder"
    # The broken plugin was logged and skipped; it did not stop the working one.
    assert "'broken'" in caplog.text
    assert "failed to load" in caplog.text
    assert "broken" not in ib.available_builders()
    assert {"echo", "local"} <= set(ib.available_builders())


def test_the_builder_name_comes_from_the_environment(plugin_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("FLYTE_IMAGE_BUILDER", "echo")
    assert type(ib.get_builder()).__name__ == "EchoBuilder"


def test_build_from_a_running_loop_points_to_aio():
    import asyncio

    image = ib.Image.from_base("python:3.12-slim")

    async def inside() -> str:
        with pytest.raises(RuntimeError, match=r"await build\.aio"):
            ib.build(image)
        return (await ib.build.aio(image)).uri

    assert asyncio.run(inside()) == "python:3.12-slim"


def test_a_dry_run_renders_without_building(monkeypatch: pytest.MonkeyPatch):
    image = ib.Image.from_base("debian:12").clone(name="dry", extendable=True).with_commands(["echo hi"])
    builder = ib.DockerBuilder("unix:///nonexistent.sock", buildkit=False)

    result = ib.build(image, dry_run=True, builder=builder)

    assert (result.built, result.uri, result.dockerfile) == (False, image.uri, "FROM debian:12\nRUN echo hi\n")
