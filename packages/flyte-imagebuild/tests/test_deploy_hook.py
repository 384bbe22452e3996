"""`ensure_images` (what ``flyte.deploy`` calls, found through an entry point) and `build_progress`.

Without an engine: the skip-with-a-note rule and ``required``. With the private Docker engine of
conftest.py (skipped cleanly where none can start): a missing image is built, then found.
"""

from __future__ import annotations

import uuid
from importlib.metadata import entry_points
from pathlib import Path

import pytest

import flyte.errors
import flyte.imagebuild as ib
from flyte.imagebuild._deploy_hook import ensure_images


def _spec(name: str | None = None) -> ib.Image:
    return ib.Image.from_debian_base(python_version=(3, 12), install_flyte=False, name=name or "deployhook")


def test_the_hook_is_declared_for_flyte_deploy():
    (ep,) = [ep for ep in entry_points(group="flyte.plugins.deploy_images") if ep.name == "imagebuild"]
    assert ep.load() is ensure_images


def test_strings_are_taken_as_they_are_and_a_base_image_needs_no_engine(monkeypatch, tmp_path: Path):
    monkeypatch.setenv("DOCKER_HOST", f"unix://{tmp_path}/none.sock")
    base = ib.Image.from_base("python:3.12-slim")
    outcomes = ensure_images(["auto", "ghcr.io/x/y:1", base, base])
    assert [(o.uri, o.outcome) for o in outcomes] == [("python:3.12-slim", "found in base")]


def test_without_an_engine_a_missing_image_is_noted_not_built_unless_required(monkeypatch, tmp_path: Path):
    sock = f"unix://{tmp_path}/none.sock"
    monkeypatch.setenv("DOCKER_HOST", sock)
    image = _spec()
    (outcome,) = ensure_images([image, image])  # one outcome per distinct image
    assert outcome.uri == image.uri
    assert outcome.outcome.startswith(f"not built: no Docker engine answers at {sock}")

    with pytest.raises(flyte.errors.ImageBuildError, match=rf"image {image.uri}.*none\.sock"):
        ensure_images([image], required=True)


def test_an_unknown_builder_is_named(monkeypatch):
    with pytest.raises(flyte.errors.ImageBuildError, match="no such image builder"):
        ensure_images([_spec()], builder="nonesuch")


def test_a_recorded_image_costs_only_the_record_lookup(monkeypatch, tmp_path: Path):
    monkeypatch.setenv("DOCKER_HOST", f"unix://{tmp_path}/none.sock")
    image = _spec()
    builder = ib.get_builder()
    from flyte.imagebuild._record import record_key

    ib.BuildRecord().add(record_key(image.uri, image.registry, builder.record_scope()), uri=image.uri)
    (outcome,) = ensure_images([image], required=True)  # no engine, and none needed
    assert outcome.outcome == "found in record"


def test_build_progress_receives_lines_from_other_threads_and_restores_the_log():
    import threading

    from flyte.imagebuild._progress import emit

    lines: list[str] = []
    with ib.build_progress(lines.append):
        worker = threading.Thread(target=emit, args=("Step 1/3 : FROM x",))
        worker.start()
        worker.join()
        assert ib.DockerBuilder().progress is emit
    assert lines == ["Step 1/3 : FROM x"]
    emit("to the log")  # no callback installed any more
    assert lines == ["Step 1/3 : FROM x"]


def test_deploy_builds_a_missing_image_on_the_engine_then_finds_it(engine, wheels: Path, monkeypatch):
    monkeypatch.setenv("DOCKER_HOST", engine.host)
    monkeypatch.setenv("FLYTE_IMAGEBUILD_NETWORK", "none")
    monkeypatch.setenv("FLYTE_IMAGEBUILD_BUILDKIT", "0")
    image = (
        ib.Image.from_base(engine.base_image)
        .clone(name=f"t{uuid.uuid4().hex[:10]}", extendable=True)
        .with_local_wheels(wheels)
    )
    lines: list[str] = []
    with ib.build_progress(lines.append):
        (first,) = ensure_images([image])
    assert (first.uri, first.outcome) == (image.uri, "built")
    assert engine.has(image.uri)
    assert any(line.startswith("Step 1/") for line in lines)  # the build's output reached the hook

    (again,) = ensure_images([image])
    assert again.outcome == "found in record"
