from importlib.metadata import version

import flyte.extend as extend


def test_version_module_is_the_published_version():
    assert extend.__version__ == version("flyte-extend")
