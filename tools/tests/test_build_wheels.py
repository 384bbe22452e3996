import pytest

from tools.build_wheels import main
from tools.tests.conftest import plant

pytestmark = pytest.mark.slow


def test_every_distribution_builds_one_clean_wheel(workspace_copy, capfd):
    assert main(["--root", str(workspace_copy)]) == 0
    assert "13 wheels" in capfd.readouterr().out
    assert len(list((workspace_copy / "dist").glob("*.whl"))) == 13


def test_a_second_flyte_init_fails_as_shipped_twice_and_not_by_the_umbrella(workspace_copy, capfd):
    plant(workspace_copy, "packages/flyte-storage/src/flyte/__init__.py", "")
    pyproject = workspace_copy / "packages/flyte-storage/pyproject.toml"
    pyproject.write_text(
        pyproject.read_text().replace(
            'only-include = ["src/flyte/storage"]', 'only-include = ["src/flyte/storage", "src/flyte/__init__.py"]'
        )
    )
    assert main(["--root", str(workspace_copy)]) == 1
    out = capfd.readouterr().out
    assert "flyte_storage-0.1.0-py3-none-any.whl ships flyte/__init__.py; only the umbrella (flyte) may" in out
    assert "flyte/__init__.py is in 2 wheels" in out


def test_a_namespace_package_without_py_typed_fails(workspace_copy, capfd):
    (workspace_copy / "packages/flyte-types/src/flyte/io/py.typed").unlink()
    assert main(["--root", str(workspace_copy)]) == 1
    assert "flyte_types-0.1.0-py3-none-any.whl: flyte/io/ has no py.typed" in capfd.readouterr().out


def test_a_sibling_range_without_upper_bound_fails(workspace_copy, capfd):
    pyproject = workspace_copy / "packages/flyte-storage/pyproject.toml"
    pyproject.write_text(pyproject.read_text().replace('"flyte-models>=0.1,<0.2"', '"flyte-models>=0.1"'))
    assert main(["--root", str(workspace_copy)]) == 1
    assert "depends on flyte-models>=0.1 with no upper bound" in capfd.readouterr().out
