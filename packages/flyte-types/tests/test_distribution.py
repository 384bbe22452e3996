from importlib.metadata import version

import flyte.types as types


def test_version_module_is_the_published_version():
    assert types.__version__ == version("flyte-types")
