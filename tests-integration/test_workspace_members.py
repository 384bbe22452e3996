"""The environment under test holds the workspace's own sources, never copies from an index."""

import json
from importlib.metadata import PackageNotFoundError, distribution
from pathlib import Path

import pytest

from tools.workspace import ROOT, Workspace

WORKSPACE = Workspace(ROOT)


@pytest.mark.parametrize("dist", sorted(WORKSPACE.dists))
def test_member_is_installed_editable_from_its_folder(dist):
    try:
        installed = distribution(dist)
    except PackageNotFoundError:
        pytest.skip(f"{dist} is not installed in this environment (testing one distribution alone)")
    direct_url = json.loads(installed.read_text("direct_url.json") or "{}")
    assert direct_url.get("dir_info", {}).get("editable") is True, f"{dist} is not an editable install: {direct_url}"
    assert Path(direct_url["url"].removeprefix("file://")).resolve() == WORKSPACE[dist].path
    assert installed.version == WORKSPACE[dist].version


@pytest.mark.parametrize("dist", sorted(WORKSPACE.dists))
def test_every_owned_module_is_imported_from_the_workspace(dist):
    import importlib

    for portion in WORKSPACE[dist].portions:
        module = importlib.import_module(portion)
        assert Path(module.__file__).resolve().is_relative_to(WORKSPACE[dist].src), portion
