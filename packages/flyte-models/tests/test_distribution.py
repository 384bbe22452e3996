from importlib.metadata import version

import flyte.models as models


def test_version_module_is_the_published_version():
    assert models.__version__ == version("flyte-models")
