from importlib.metadata import version

import flyte.storage as storage


def test_version_module_is_the_published_version():
    assert storage.__version__ == version("flyte-storage")
