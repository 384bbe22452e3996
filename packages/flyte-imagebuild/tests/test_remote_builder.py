"""The ``remote`` builder's own errors; finding images through a real backend's ImageService is
tested with the embedded server's image service (flyte-server's tests/test_docker_executor.py)."""

from __future__ import annotations

import socket

import pytest

import flyte.imagebuild as ib
from flyte.errors import ImageBuildError


def test_remote_is_a_registered_builder():
    assert "remote" in ib.available_builders()


def test_without_an_endpoint_the_remote_builder_says_what_to_set(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.delenv("FLYTE_IMAGEBUILD_ENDPOINT", raising=False)
    image = ib.Image.from_debian_base(install_flyte=False, name="app")

    with pytest.raises(ImageBuildError, match=r"builder 'remote': .*needs a backend: .*FLYTE_IMAGEBUILD_ENDPOINT"):
        ib.build(image, builder="remote")


def test_an_unreachable_backend_is_named(monkeypatch: pytest.MonkeyPatch):
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    monkeypatch.setenv("FLYTE_IMAGEBUILD_ENDPOINT", f"dns:///127.0.0.1:{port}")
    image = ib.Image.from_debian_base(install_flyte=False, name="app")

    with pytest.raises(ImageBuildError) as err:
        ib.build(image, builder="remote")

    assert str(err.value).startswith(
        f"image {image.uri}, remote builder http://127.0.0.1:{port}: cannot reach the backend"
    )


def test_force_is_refused_because_nothing_can_be_built():
    image = ib.Image.from_debian_base(install_flyte=False, name="app")

    with pytest.raises(ImageBuildError, match=r"cannot rebuild \(force\)"):
        ib.build(image, builder=ib.RemoteBuilder("127.0.0.1:1"), force=True)


def test_endpoints_become_urls():
    assert ib.RemoteBuilder("localhost:8090").url == "http://localhost:8090"
    assert ib.RemoteBuilder("dns:///flyte.example.com").url == "https://flyte.example.com"
    assert ib.RemoteBuilder("flyte.example.com:443", insecure=True).url == "http://flyte.example.com:443"
    assert ib.RemoteBuilder("https://flyte.example.com/").url == "https://flyte.example.com"


def test_a_dry_run_asks_nobody():
    image = ib.Image.from_debian_base(install_flyte=False, name="app").with_env_vars({"A": "1"})

    result = ib.build(image, builder=ib.RemoteBuilder("127.0.0.1:1"), dry_run=True)

    assert result.uri == image.uri
    assert result.dockerfile is not None
    assert 'ENV A="1"' in result.dockerfile
