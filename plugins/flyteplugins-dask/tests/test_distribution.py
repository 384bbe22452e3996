from importlib.metadata import version

import flyteplugins.dask as dask


def test_version_module_is_the_published_version():
    assert dask.__version__ == version("flyteplugins-dask")
