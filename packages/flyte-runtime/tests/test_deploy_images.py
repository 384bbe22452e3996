"""``flyte.deploy`` builds missing images (through flyte-imagebuild's entry point), against a real
embedded server whose default executors ignore images.

No Docker engine is used here: ``DOCKER_HOST`` points at a socket nobody listens on, which is
the embedded server's usual setting. Builds on a real engine: flyte-imagebuild's
``test_deploy_hook.py``.
"""

from __future__ import annotations

import importlib
import importlib.util
from pathlib import Path
from types import ModuleType

import pytest

import flyte.errors
import flyte.runtime as fr

from .test_remote_runs import WAIT_SECONDS, remote, server_url  # noqa: F401  (fixtures)

pytestmark = [
    pytest.mark.skipif(importlib.util.find_spec("flyte.server") is None, reason="needs flyte-server"),
    pytest.mark.skipif(
        importlib.util.find_spec("flyte.imagebuild") is None, reason="needs flyte-imagebuild (Image specs)"
    ),
]

PROJECT_DIR = Path(__file__).parent / "remote_project"


@pytest.fixture
def image_tasks(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> ModuleType:
    monkeypatch.setenv("DOCKER_HOST", f"unix://{tmp_path}/no-engine.sock")
    monkeypatch.setenv("FLYTE_IMAGEBUILD_RECORD_DIR", str(tmp_path / "record"))
    monkeypatch.syspath_prepend(str(PROJECT_DIR))
    return importlib.import_module("image_tasks")


@pytest.mark.usefixtures("remote")
def test_without_an_engine_the_spec_is_noted_unbuilt_and_the_deployed_task_runs(image_tasks, tmp_path):
    (deployment,) = fr.deploy(image_tasks.spec_env, version="v-images-1")
    uri = image_tasks.spec.uri
    ((noted_uri, outcome),) = deployment.images
    assert noted_uri == uri
    assert outcome.startswith(f"not built: no Docker engine answers at unix://{tmp_path}/no-engine.sock")
    (spec,) = deployment.tasks
    assert spec.image == uri
    run = fr.with_runcontext(version="v-images-1").run(image_tasks.plus_one, 41).wait(timeout=WAIT_SECONDS)
    assert run.outputs()[0] == 42


@pytest.mark.usefixtures("remote")
def test_build_true_without_an_engine_fails_naming_the_image(image_tasks):
    with pytest.raises(flyte.errors.ImageBuildError, match=r"image deploy-images-test:\w+.*no-engine\.sock"):
        fr.deploy(image_tasks.spec_env, build=True)


@pytest.mark.usefixtures("remote")
def test_no_build_dry_run_and_uris_build_nothing(image_tasks):
    assert fr.deploy(image_tasks.spec_env, build=False)[0].images == ()
    assert fr.deploy(image_tasks.spec_env, build=True, dry_run=True)[0].images == ()
    (deployment,) = fr.deploy(image_tasks.uri_env, build=True)
    assert deployment.images == ()
    assert [s.image for s in deployment.tasks] == ["ghcr.io/example/app:1"]
