"""Every way a build can fail ends in one `ImageBuildError` naming the image, the layer and the
cause, and leaves no image under the URI."""

from __future__ import annotations

import socket
import uuid
from pathlib import Path

import pytest

import flyte.imagebuild as ib
from flyte.errors import ImageBuildError


def _base(engine) -> ib.Image:  # type: ignore[no-untyped-def]
    return ib.Image.from_base(engine.base_image).clone(name=f"bad{uuid.uuid4().hex[:8]}", extendable=True)


def test_a_missing_requirements_file_names_the_layer(tmp_path: Path):
    image = ib.Image.from_debian_base(install_flyte=False, name="app").with_requirements(tmp_path / "nope.txt")

    with pytest.raises(ImageBuildError) as err:
        ib.build(image)

    message = str(err.value)
    assert message.startswith("image app, layer 3 (requirements ")
    assert f"{tmp_path / 'nope.txt'} does not exist" in message


def test_a_missing_dockerfile_is_named(tmp_path: Path):
    image = ib.Image.from_dockerfile(tmp_path / "Dockerfile", registry="localhost:5000", name="app")

    with pytest.raises(ImageBuildError, match=r"image localhost:5000/app, Dockerfile .*Dockerfile does not exist"):
        _ = image.uri


def test_a_missing_wheel_folder_is_named(tmp_path: Path):
    image = ib.Image.from_debian_base(install_flyte=False, name="app").with_local_wheels(tmp_path / "dist")

    with pytest.raises(ImageBuildError, match=r"layer 3 \(local wheels .*dist\): wheel folder .* does not exist"):
        image.validate()


def test_an_unknown_base_image_names_the_base(engine):  # type: ignore[no-untyped-def]
    image = ib.Image.from_base("local/no-such-base:1").clone(name="nobase", extendable=True).with_commands(["true"])

    with pytest.raises(ImageBuildError) as err:
        ib.build(image, builder=engine.builder())

    message = str(err.value)
    assert message.startswith(f"image {image.uri}, base image local/no-such-base:1: ")
    assert "neither on the engine nor pullable" in message
    assert not engine.has(image.uri)


@pytest.mark.parametrize("buildkit", [False, True], ids=["classic", "buildkit"])
def test_a_failing_run_step_names_the_layer_and_shows_its_output(engine, buildkit: bool):  # type: ignore[no-untyped-def]
    builder = engine.builder(buildkit=None if buildkit else False)
    if buildkit and builder.buildkit_cli is None:
        pytest.skip("no docker CLI with BuildKit here")
    image = _base(engine).with_env_vars({"A": "1"}).with_commands(["echo fine", "echo broken-step >&2; exit 3"])

    with pytest.raises(ImageBuildError) as err:
        ib.build(image, builder=builder)

    message = str(err.value)
    assert message.startswith(f"image {image.uri}, layer 2 (commands echo fine; echo broken-step >&2; exit 3): ")
    assert "3" in message.split(":", 2)[2]  # the exit code
    assert "broken-step" in message
    assert not engine.has(image.uri)


def test_an_unreachable_engine_is_named(tmp_path: Path):
    image = ib.Image.from_debian_base(install_flyte=False, name="app")
    builder = ib.DockerBuilder(f"unix://{tmp_path}/no-engine.sock")

    with pytest.raises(
        ImageBuildError, match=r"image app:\w+, docker engine unix://.*: cannot reach the Docker engine"
    ):
        ib.build(image, builder=builder)


def test_an_unreachable_registry_fails_before_building(engine):  # type: ignore[no-untyped-def]
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    image = _base(engine).clone(registry=f"127.0.0.1:{port}").with_commands(["true"])

    with pytest.raises(ImageBuildError, match=r"registry 127\.0\.0\.1:\d+: cannot reach the registry"):
        ib.build(image, builder=engine.builder())
    assert not engine.has(image.uri)


def test_a_refused_push_leaves_no_tag_behind(engine, readonly_registry: str):  # type: ignore[no-untyped-def]
    image = _base(engine).clone(registry=readonly_registry).with_commands(["true"])

    with pytest.raises(ImageBuildError) as err:
        ib.build(image, builder=engine.builder())

    assert str(err.value).startswith(f"image {image.uri}, push to registry {readonly_registry}: ")
    assert "the local tag was removed" in str(err.value)
    assert not engine.has(image.uri)
    assert not ib.BuildRecord().has(image.uri)


def test_an_unknown_builder_lists_the_known_ones():
    image = ib.Image.from_debian_base(install_flyte=False, name="app")

    with pytest.raises(ImageBuildError, match=r"builder 'nope': no such image builder; available: .*local"):
        ib.build(image, builder="nope")
