from importlib.metadata import version

import flyte.cli as cli


def test_version_module_is_the_published_version():
    assert cli.__version__ == version("flyte-cli")
