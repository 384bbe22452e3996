from importlib.metadata import version

import flyte.runtime as runtime


def test_version_module_is_the_published_version():
    assert runtime.__version__ == version("flyte-runtime")
