import doctest
import importlib
import pkgutil

import pytest

import flyte.errors
import flyte.models

MODULES = ["flyte.models", "flyte.errors"] + [
    f"flyte.models.{info.name}" for info in pkgutil.iter_modules(flyte.models.__path__) if info.name != "_version"
]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples_run(name):
    result = doctest.testmod(importlib.import_module(name), optionflags=doctest.ELLIPSIS)
    assert result.failed == 0


def test_the_errors_module_is_documented_with_an_example():
    assert ">>>" in (flyte.errors.__doc__ or "")
