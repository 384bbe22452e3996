"""`Image` specifications, their Dockerfiles and content-hash tags, and the builders that make them.

An `Image` is an immutable spec; its `uri` ends in a hash of everything that goes into it, so
`build` can tell whether it exists (local record, registry, engine) before building anything.
Importing this package is cheap: the docker SDK is imported only when an engine is used.

Example:
    >>> import flyte.imagebuild as ib
    >>> image = ib.Image.from_debian_base(python_version=(3, 12), install_flyte=False, name="app")
    >>> image.with_pip_packages("requests").uri != image.uri
    True
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from flyte.imagebuild._version import __version__

if TYPE_CHECKING:
    from flyte.imagebuild._build import ImageCache, build, build_images
    from flyte.imagebuild._builder import (
        ENTRY_POINT_GROUP,
        ImageBuild,
        ImageBuilder,
        available_builders,
        get_builder,
        register_builder,
    )
    from flyte.imagebuild._docker_builder import DockerBuilder
    from flyte.imagebuild._image import Image
    from flyte.imagebuild._progress import build_progress
    from flyte.imagebuild._record import BuildRecord
    from flyte.imagebuild._remote_builder import RemoteBuilder

# Every name is loaded on first use (PEP 562): `import flyte.imagebuild` stays a few milliseconds.
_EXPORTS = {
    "Image": "flyte.imagebuild._image",
    "build": "flyte.imagebuild._build",
    "build_images": "flyte.imagebuild._build",
    "ImageCache": "flyte.imagebuild._build",
    "ImageBuild": "flyte.imagebuild._builder",
    "ImageBuilder": "flyte.imagebuild._builder",
    "ENTRY_POINT_GROUP": "flyte.imagebuild._builder",
    "available_builders": "flyte.imagebuild._builder",
    "get_builder": "flyte.imagebuild._builder",
    "register_builder": "flyte.imagebuild._builder",
    "DockerBuilder": "flyte.imagebuild._docker_builder",
    "BuildRecord": "flyte.imagebuild._record",
    "build_progress": "flyte.imagebuild._progress",
    "RemoteBuilder": "flyte.imagebuild._remote_builder",
}

__all__ = [
    "ENTRY_POINT_GROUP",
    "BuildRecord",
    "DockerBuilder",
    "Image",
    "ImageBuild",
    "ImageBuilder",
    "ImageCache",
    "RemoteBuilder",
    "__version__",
    "available_builders",
    "build",
    "build_images",
    "build_progress",
    "get_builder",
    "register_builder",
]


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'flyte.imagebuild' has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
