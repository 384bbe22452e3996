import re

from tools.check_deps import main
from tools.tests.conftest import plant


def test_the_checkout_passes(capsys):
    assert main([]) == 0
    assert "0 problem(s)" in capsys.readouterr().out


def test_an_undeclared_sibling_import_fails_naming_file_and_distribution(workspace_copy, capsys):
    plant(workspace_copy, "packages/flyte-models/src/flyte/models/_planted.py", "import flyte.storage\n")
    assert main(["--root", str(workspace_copy)]) == 1
    out = capsys.readouterr().out
    assert re.search(
        r"packages/flyte-models/src/flyte/models/_planted.py:1: flyte-models imports 'flyte.storage' "
        r"from flyte-storage, which is not declared",
        out,
    )


def test_an_undeclared_third_party_import_fails(workspace_copy, capsys):
    plant(workspace_copy, "packages/flyte-models/src/flyte/models/_planted.py", "from packaging import version\n")
    assert main(["--root", str(workspace_copy)]) == 1
    assert "imports 'packaging' from packaging, which is not declared" in capsys.readouterr().out


def test_importing_the_umbrella_from_a_lower_distribution_fails(workspace_copy, capsys):
    plant(workspace_copy, "packages/flyte-models/src/flyte/models/_planted.py", "from flyte import run\n")
    assert main(["--root", str(workspace_copy)]) == 1
    assert "flyte-models imports the umbrella ('flyte.run')" in capsys.readouterr().out


def test_importing_a_submodule_through_the_namespace_is_not_the_umbrella(workspace_copy, capsys):
    pyproject = workspace_copy / "packages/flyte-imagebuild/pyproject.toml"
    text = re.sub(r"(?ms)^\[tool\.flyte\.deps\].*", "", pyproject.read_text())  # the section ends the file
    pyproject.write_text(text.rstrip() + '\n\n[tool.flyte.deps]\nnot-yet-imported = ["flyte-models"]\n')
    plant(workspace_copy, "packages/flyte-imagebuild/src/flyte/imagebuild/_planted.py", "from flyte import errors\n")
    # flyte.errors belongs to flyte-models, which flyte-imagebuild declares: the import is legal,
    # and the check only asks to drop the now stale not-yet-imported entry.
    assert main(["--root", str(workspace_copy)]) == 1
    out = capsys.readouterr().out
    assert "flyte-imagebuild: flyte-models is imported now; remove it from [tool.flyte.deps] not-yet-imported" in out
    assert "umbrella" not in out


def test_a_declared_dependency_nothing_imports_fails(workspace_copy, capsys):
    pyproject = workspace_copy / "packages/flyte-storage/pyproject.toml"
    text = pyproject.read_text()
    pyproject.write_text(text.replace("dependencies = [", 'dependencies = [\n    "six>=1.16",', 1))
    assert main(["--root", str(workspace_copy)]) == 1
    assert "flyte-storage: declares six but no module imports it" in capsys.readouterr().out
