import ast
import subprocess
import sys
from importlib.metadata import version
from pathlib import Path

import pytest

import flyte

INIT = Path(flyte.__file__)


def _statements(tree: ast.Module) -> list[ast.stmt]:
    """Module body without the docstring."""
    return [n for n in tree.body if not (isinstance(n, ast.Expr) and isinstance(n.value, ast.Constant))]


def test_first_statement_extends_the_namespace_path():
    first, second = _statements(ast.parse(INIT.read_text()))[:2]
    assert ast.unparse(first) == "from pkgutil import extend_path"
    assert ast.unparse(second) == "__path__ = extend_path(__path__, __name__)"


def test_namespace_spans_every_sibling_source_folder():
    import flyte.errors
    import flyte.models

    paths = {Path(p) for p in flyte.__path__}
    assert Path(flyte.models.__file__).parent.parent in paths
    assert Path(flyte.errors.__file__).parent.parent in paths


def test_import_flyte_loads_no_sibling():
    code = "import sys, flyte; print(sorted(m for m in sys.modules if m.startswith('flyte.')))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "['flyte._version']"


def test_submodules_resolve_on_first_attribute_access():
    code = "import flyte; e = flyte.errors.OOMError; import sys; print('flyte.errors' in sys.modules, e.__name__)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["True", "OOMError"]


def test_unknown_attribute_is_an_attribute_error_naming_it():
    with pytest.raises(AttributeError, match="no attribute 'definitely_not_here'"):
        _ = flyte.definitely_not_here


def test_type_checking_imports_match_the_lazy_tables():
    guarded = next(
        n
        for n in _statements(ast.parse(INIT.read_text()))
        if isinstance(n, ast.If) and ast.unparse(n.test) == "TYPE_CHECKING"
    )
    names = {alias.asname or alias.name for node in guarded.body for alias in node.names}  # type: ignore[attr-defined]
    assert names == set(flyte._SUBMODULES) | set(flyte._EXPORTS)


def test_every_public_name_resolves():
    for name in flyte.__all__:
        assert getattr(flyte, name) is not None, name


def test_version_is_the_distribution_version():
    assert flyte.version() == flyte.__version__ == version("flyte")
