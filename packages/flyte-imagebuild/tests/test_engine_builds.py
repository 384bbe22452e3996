"""Images built for real on a private Docker engine, run, retagged, pushed and found again."""

from __future__ import annotations

import time
import uuid
from pathlib import Path

import pytest

import flyte.imagebuild as ib
from flyte.imagebuild._registry import registry_has_tag


def _name() -> str:
    return f"t{uuid.uuid4().hex[:10]}"


def _base(engine, registry: str | None = None) -> ib.Image:  # type: ignore[no-untyped-def]
    return ib.Image.from_base(engine.base_image).clone(name=_name(), registry=registry, extendable=True)


@pytest.fixture(params=["classic", "buildkit"])
def builder(request: pytest.FixtureRequest, engine) -> ib.DockerBuilder:
    if request.param == "buildkit":
        b = engine.builder(buildkit=None)
        if b.buildkit_cli is None:
            pytest.skip("no docker CLI with BuildKit here (buildx, or Debian's docker < 23)")
        return engine.builder(buildkit=True)
    return engine.builder()


def test_a_built_image_runs_code_installed_from_local_wheels(engine, wheels: Path, builder: ib.DockerBuilder):
    image = _base(engine).with_local_wheels(wheels).with_env_vars({"PROBE_MODE": "tested"})

    result = ib.build(image, builder=builder)

    assert result.built
    assert result.uri == image.uri
    out = engine.run(image.uri, "python3", "-c", "import os, probe; print(probe.GREETING, os.environ['PROBE_MODE'])")
    assert out == "probe sees from probe-dep tested"


def test_the_debian_base_installs_into_its_virtual_env(engine, wheels: Path):
    image = (
        ib.Image.from_debian_base(python_version=(3, 11), install_flyte=False, name=_name())
        .clone(base_image=engine.base_image)
        .with_local_wheels(wheels, "probe")
    )

    ib.build(image, builder=engine.builder())

    out = engine.run(image.uri, "python", "-c", "import sys, probe; print(sys.prefix, probe.GREETING)")
    assert out == "/opt/venv probe sees from probe-dep"


def test_a_requirements_file_installs_from_a_copied_wheel_folder(engine, wheels: Path, tmp_path: Path):
    requirements = tmp_path / "requirements.txt"
    requirements.write_text("probe==1.0\n")
    image = (
        _base(engine)
        .with_source_folder(wheels, dst="/opt/wheels", copy_contents_only=True)
        .with_requirements(requirements, extra_args="--no-index --find-links /opt/wheels")
    )

    ib.build(image, builder=engine.builder())

    assert engine.run(image.uri, "python3", "-c", "import probe; print(probe.GREETING)") == "probe sees from probe-dep"


def test_a_source_folder_lands_in_the_workdir_without_ignored_files(engine, tmp_path: Path):
    src = tmp_path / "app"
    (src / "pkg").mkdir(parents=True)
    (src / "pkg" / "main.py").write_text("print('main')\n")
    (src / "secret.env").write_text("TOKEN=1\n")
    (src / ".dockerignore").write_text("*.env\n")
    image = _base(engine).with_workdir("/srv").with_source_folder(src)

    ib.build(image, builder=engine.builder())

    listing = engine.run(image.uri, "sh", "-c", "cd /srv/app && find . -type f | sort")
    assert listing.split() == ["./.dockerignore", "./pkg/main.py"]


def test_a_user_dockerfile_builds_with_its_folder_as_context(engine, tmp_path: Path):
    (tmp_path / "hello.txt").write_text("hello from the context\n")
    (tmp_path / "Dockerfile").write_text(f"FROM {engine.base_image}\nCOPY hello.txt /hello.txt\n")
    image = ib.Image.from_dockerfile(tmp_path / "Dockerfile", registry="", name=_name())

    ib.build(image, builder=engine.builder())

    assert engine.run(image.uri, "cat", "/hello.txt") == "hello from the context"


def test_two_clean_builds_of_one_spec_carry_the_same_tag(engine, wheels: Path, tmp_path: Path):
    def spec() -> ib.Image:
        return (
            ib.Image.from_base(engine.base_image)
            .clone(name="stable", extendable=True)
            .with_local_wheels(wheels)
            .with_commands(["python3 -c 'import probe'"])
        )

    first = ib.build(spec(), builder=engine.builder(no_cache=True))
    engine.remove(first.uri)
    ib.BuildRecord().forget(first.uri)
    second = ib.build(spec(), builder=engine.builder(no_cache=True), force=True)

    assert first.built
    assert second.built
    assert second.uri == first.uri
    assert engine.has(second.uri)


def test_a_rebuild_of_an_existing_image_is_an_existence_check(engine, wheels: Path):
    image = _base(engine).with_local_wheels(wheels)
    ib.build(image, builder=engine.builder())

    started = time.perf_counter()
    again = ib.build(image, builder=engine.builder())
    elapsed = time.perf_counter() - started

    assert (again.built, again.found_in) == (False, "record")
    assert elapsed < 0.5


def test_without_a_record_the_engine_is_asked(engine, wheels: Path, record_dir: Path):
    image = _base(engine).with_local_wheels(wheels)
    ib.build(image, builder=engine.builder())
    ib.BuildRecord(record_dir).forget(f"docker:{engine.host}|{image.uri}")

    again = ib.build(image, builder=engine.builder())

    assert (again.built, again.found_in) == (False, "engine")


def test_force_rebuilds_an_existing_image(engine, wheels: Path):
    image = _base(engine).with_local_wheels(wheels)
    ib.build(image, builder=engine.builder())

    assert ib.build(image, builder=engine.builder(), force=True).built


def test_an_image_with_a_registry_is_pushed_and_then_found_there(engine, registry: str, wheels: Path):
    image = _base(engine, registry=registry).with_local_wheels(wheels)

    result = ib.build(image, builder=engine.builder())

    assert result.uri.startswith(f"{registry}/")
    assert result.pushed
    assert registry_has_tag(result.uri) is True
    # A machine that never built it: no record, nothing on the engine, but the registry has it.
    engine.remove(result.uri)
    ib.BuildRecord().forget(result.uri)
    again = ib.build(image, builder=engine.builder())
    assert (again.built, again.found_in) == (False, "registry")
    assert not engine.has(result.uri)


def test_an_image_on_the_engine_but_not_in_the_registry_is_pushed_without_a_rebuild(
    engine, registry: str, wheels: Path
):
    local = _base(engine).with_local_wheels(wheels)
    ib.build(local, builder=engine.builder())
    remote = local.clone(registry=registry)
    engine.client().images.get(local.uri).tag(remote.uri)

    result = ib.build(remote, builder=engine.builder())

    assert (result.built, result.found_in, result.pushed) == (False, "engine", True)
    assert registry_has_tag(remote.uri) is True


def test_build_images_builds_each_environment_image_once(engine, wheels: Path):
    class Env:
        def __init__(self, name: str, image: object, depends_on: tuple[object, ...] = ()):
            self.name, self.image, self.depends_on = name, image, depends_on

    shared = _base(engine).with_local_wheels(wheels)
    worker = Env("worker", shared)
    driver = Env("driver", shared, depends_on=(worker,))
    prebuilt = Env("prebuilt", engine.base_image)

    cache = ib.build_images(driver, prebuilt, builder=engine.builder())

    assert cache.image_lookup == {"driver": shared.uri, "worker": shared.uri, "prebuilt": engine.base_image}
    assert engine.has(shared.uri)
