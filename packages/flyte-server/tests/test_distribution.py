from importlib.metadata import version

import flyte.server as server


def test_version_module_is_the_published_version():
    assert server.__version__ == version("flyte-server")
