from tools.check_graph import main
from tools.tests.conftest import plant


def test_the_checkout_keeps_every_contract(capfd):
    assert main([]) == 0
    assert "0 broken" in capfd.readouterr().out


def test_a_forbidden_import_breaks_its_contract_naming_the_edge(workspace_copy, capfd):
    plant(workspace_copy, "packages/flyte-remote/src/flyte/remote/_planted.py", "import flyte.cli\n")
    assert main(["--root", str(workspace_copy)]) == 1
    out = capfd.readouterr().out
    assert "BROKEN" in out
    assert "flyte.remote._planted -> flyte.cli" in out


def test_a_plugin_importing_a_sibling_other_than_extend_breaks_the_plugin_contract(workspace_copy, capfd):
    plant(workspace_copy, "plugins/flyteplugins-dask/src/flyteplugins/dask/_planted.py", "import flyte.models\n")
    assert main(["--root", str(workspace_copy)]) == 1
    assert "flyteplugins.dask._planted -> flyte.models" in capfd.readouterr().out


def test_declaring_a_forbidden_sibling_fails_before_any_import(workspace_copy, capfd):
    pyproject = workspace_copy / "packages/flyte-server/pyproject.toml"
    text = pyproject.read_text()
    pyproject.write_text(
        text.replace('"flyte-models>=0.1,<0.2",', '"flyte-models>=0.1,<0.2",\n    "flyte-runtime>=0.1,<0.2",')
    )
    assert main(["--root", str(workspace_copy)]) == 1
    out = capfd.readouterr().out
    assert "packages/flyte-server/pyproject.toml declares flyte-runtime" in out
    (line,) = [x for x in out.splitlines() if "declares flyte-runtime" in x]
    assert "forbids importing" in line
    assert "flyte.runtime" in line
