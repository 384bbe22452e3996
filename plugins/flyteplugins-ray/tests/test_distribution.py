from importlib.metadata import version

import flyteplugins.ray as ray


def test_version_module_is_the_published_version():
    assert ray.__version__ == version("flyteplugins-ray")
