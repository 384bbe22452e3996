from importlib.metadata import version

import flyte.imagebuild as imagebuild


def test_version_module_is_the_published_version():
    assert imagebuild.__version__ == version("flyte-imagebuild")
