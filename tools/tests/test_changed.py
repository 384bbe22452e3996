from tools.changed import selection
from tools.workspace import ROOT, Workspace

WS = Workspace(ROOT)


def test_a_change_to_models_selects_everything_built_on_it():
    chosen = selection(WS, ["packages/flyte-models/src/flyte/errors/__init__.py"])
    assert chosen == set(WS.dists)  # every distribution depends on flyte-models, directly or not


def test_a_change_to_imagebuild_selects_its_dependents_only():
    chosen = selection(WS, ["packages/flyte-imagebuild/src/flyte/imagebuild/__init__.py"])
    assert chosen == {
        "flyte-imagebuild",
        "flyte-extend",
        "flyte-cli",
        "flyte",
        "flyteplugins-spark",
        "flyteplugins-dask",
        "flyteplugins-ray",
    }


def test_a_change_to_a_plugin_selects_that_plugin():
    assert selection(WS, ["plugins/flyteplugins-ray/tests/test_distribution.py"]) == {"flyteplugins-ray"}


def test_docs_only_select_nothing():
    assert selection(WS, ["docs/architecture.md", "README.md"]) == set()


def test_a_change_outside_every_distribution_selects_all():
    assert selection(WS, ["uv.lock"]) == set(WS.dists)
