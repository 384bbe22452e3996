"""`Image` specifications, their Dockerfiles and content-hash tags, and image builders."""

from flyte.imagebuild._version import __version__

__all__ = ["__version__"]
