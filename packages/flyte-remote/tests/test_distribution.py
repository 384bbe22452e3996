from importlib.metadata import version

import flyte.remote as remote


def test_version_module_is_the_published_version():
    assert remote.__version__ == version("flyte-remote")
