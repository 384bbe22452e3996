from importlib.metadata import version

import flyteplugins.spark as spark


def test_version_module_is_the_published_version():
    assert spark.__version__ == version("flyteplugins-spark")
