"""`Image` is an immutable builder with the public SDK's constructors and parameters."""

from __future__ import annotations

import dataclasses
import subprocess
import sys
from pathlib import Path

import pytest

import flyte.imagebuild as ib


def test_with_methods_return_new_images():
    base = ib.Image.from_debian_base(install_flyte=False, name="app")
    extended = base.with_pip_packages("numpy")
    assert extended is not base
    assert len(extended.layers) == len(base.layers) + 1
    with pytest.raises(dataclasses.FrozenInstanceError):
        base.name = "other"  # type: ignore[misc]


def test_from_debian_base_defaults():
    image = ib.Image.from_debian_base(python_version=(3, 11), install_flyte=False)
    assert (image.base_image, image.name, image.registry) == ("python:3.11-slim-bookworm", "flyte", None)
    assert image.platform == ("linux/amd64", "linux/arm64")
    assert image.extendable


def test_from_debian_base_installs_the_given_flyte_version():
    image = ib.Image.from_debian_base(python_version=(3, 11), flyte_version="2.0.0")
    assert "uv pip install --python /opt/venv/bin/python --no-cache flyte==2.0.0" in image._plan.dockerfile(False)


def test_a_from_base_image_must_be_cloned_extendable_to_take_layers():
    image = ib.Image.from_base("python:3.12-slim")
    with pytest.raises(ValueError, match=r"not extendable; use \.clone\(name=\.\.\., extendable=True\)"):
        image.with_pip_packages("numpy")
    assert image.clone(name="mine", extendable=True).with_pip_packages("numpy").uri.startswith("mine:")


def test_a_dockerfile_image_takes_no_layers(tmp_path: Path):
    with pytest.raises(ValueError, match="not extendable"):
        ib.Image.from_dockerfile(tmp_path / "Dockerfile", registry="r.example", name="d").with_workdir("/x")


def test_a_malformed_base_uri_is_rejected():
    with pytest.raises(ValueError, match=r"image uri must look like"):
        ib.Image.from_base("Not An Image")


def test_with_commands_wants_a_list():
    with pytest.raises(TypeError, match="takes a list"):
        ib.Image.from_debian_base(install_flyte=False).with_commands("echo hi")


def test_secret_mounts_are_refused_clearly():
    with pytest.raises(ValueError, match="secret_mounts is not supported"):
        ib.Image.from_debian_base(install_flyte=False).with_pip_packages("x", secret_mounts="token")


def test_importing_flyte_imagebuild_does_not_import_docker():
    program = (
        "import sys, flyte.imagebuild as ib; ib.Image, ib.build, ib.DockerBuilder;"
        "print(sorted(m for m in sys.modules if m.startswith('docker')))"
    )
    out = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_public_sdk_signatures_are_kept():
    import inspect

    expected = {
        "from_debian_base": ["python_version", "flyte_version", "install_flyte", "registry", "registry_secret", "name"],
        "from_dockerfile": ["file", "registry", "name", "platform"],
        "with_requirements": ["file", "index_url", "extra_index_urls", "pre", "extra_args", "secret_mounts"],
        "with_uv_project": ["pyproject_file", "uvlock", "index_url", "extra_index_urls", "pre", "extra_args"],
        "with_source_folder": ["src", "dst", "copy_contents_only"],
        "clone": ["registry", "registry_secret", "name", "base_image", "python_version", "addl_layer", "extendable"],
    }
    for method, names in expected.items():
        params = list(inspect.signature(getattr(ib.Image, method)).parameters)
        params = [p for p in params if p not in ("self", "cls")]
        assert params[: len(names)] == names, method
