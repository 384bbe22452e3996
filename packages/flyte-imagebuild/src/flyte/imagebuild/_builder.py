"""What every image builder provides, what a build returns, and the registry of builders.

Builders are found by name: ``"local"`` (the Docker engine, `DockerBuilder`) and ``"remote"``
(asks the backend's ImageService, `RemoteBuilder`; it does not build) are built in; plugins
add theirs through the entry-point group ``flyte.plugins.image_builders``, each entry point
naming a builder class, a factory or an instance. Entry points are loaded once, on the first
lookup of a name that is not registered yet; one that fails to load is logged and skipped.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal, Protocol, runtime_checkable

if TYPE_CHECKING:
    from flyte.imagebuild._image import Image

logger = logging.getLogger("flyte.imagebuild")

ENTRY_POINT_GROUP = "flyte.plugins.image_builders"
DEFAULT_BUILDER = "local"

FoundIn = Literal["base", "record", "registry", "engine", "backend"]


@dataclass(frozen=True)
class ImageBuild:
    """The outcome of `build`.

    Attributes:
        uri: the image's URI, ``registry/name:<content hash>``.
        built: whether this call built it (False when it already existed, or on a dry run).
        found_in: where it was found when it was not built: ``"base"`` (a `from_base` image
            used as is), ``"record"`` (the local record of built images), ``"registry"`` or
            ``"engine"``, or ``"backend"`` (the ``remote`` builder's backend has it); None when built.
        pushed: whether this call pushed it to its registry.
        dockerfile: the Dockerfile that was (or, on a dry run, would be) used, when known.
    """

    uri: str
    built: bool
    found_in: FoundIn | None = None
    pushed: bool = False
    dockerfile: str | None = None


@runtime_checkable
class ImageBuilder(Protocol):
    """A way to build images; register one with `register_builder` or an entry point."""

    def record_scope(self) -> str:
        """Where images of this builder live when they have no registry (e.g. the engine's address).

        Part of the local record's key: an image built on one engine is not taken as present
        on another.
        """
        ...

    async def build_image(self, image: Image, dry_run: bool = False, force: bool = False) -> ImageBuild:
        """Build ``image`` unless it exists (``force`` skips that check), tag it with ``image.uri``
        and push it when it has a registry.

        Raises:
            flyte.errors.ImageBuildError: naming the image, the layer or phase, and the cause.
        """
        ...


BuilderFactory = Callable[[], ImageBuilder]


def _docker_builder() -> ImageBuilder:
    from flyte.imagebuild._docker_builder import DockerBuilder

    return DockerBuilder()


def _remote_builder() -> ImageBuilder:
    from flyte.imagebuild._remote_builder import RemoteBuilder

    return RemoteBuilder()


_factories: dict[str, BuilderFactory] = {DEFAULT_BUILDER: _docker_builder, "remote": _remote_builder}
_entry_points_loaded = False


def register_builder(name: str, factory: BuilderFactory) -> None:
    """Make ``factory()`` the builder called ``name`` (replacing one of that name)."""
    _factories[name] = factory


def _load_entry_points() -> None:
    global _entry_points_loaded
    if _entry_points_loaded:
        return
    _entry_points_loaded = True
    from importlib.metadata import entry_points  # ~50 ms: only when a name is not registered

    for ep in entry_points(group=ENTRY_POINT_GROUP):
        if ep.name in _factories:
            continue
        try:
            obj = ep.load()
        except Exception as e:
            # One broken plugin must not take image builds down with it.
            logger.warning("image builder plugin %r (%s) failed to load and is skipped: %s", ep.name, ep.value, e)
            continue
        _factories[ep.name] = _as_factory(obj)


def _as_factory(obj: object) -> BuilderFactory:
    if isinstance(obj, ImageBuilder) and not isinstance(obj, type):
        return lambda: obj
    if callable(obj):
        return obj  # a class or a factory; what it returns is checked when it is called
    raise TypeError(f"{obj!r} is neither an image builder nor a factory of one")


def available_builders() -> list[str]:
    """The names of every builder: built in, registered, or offered by an installed plugin."""
    _load_entry_points()
    return sorted(_factories)


def get_builder(name: str | None = None) -> ImageBuilder:
    """The builder called ``name``; default ``$FLYTE_IMAGE_BUILDER``, else ``"local"``.

    Raises:
        flyte.errors.ImageBuildError: no builder has that name, or its factory failed.
    """
    from flyte.imagebuild._errors import image_build_error

    name = name or os.environ.get("FLYTE_IMAGE_BUILDER") or DEFAULT_BUILDER
    if name not in _factories:
        _load_entry_points()
    factory = _factories.get(name)
    if factory is None:
        raise image_build_error(
            "-", f"builder {name!r}", f"no such image builder; available: {', '.join(available_builders())}"
        )
    try:
        builder = factory()
    except Exception as e:
        raise image_build_error("-", f"builder {name!r}", f"creating the builder failed: {e}") from e
    if not isinstance(builder, ImageBuilder):
        raise image_build_error("-", f"builder {name!r}", f"{builder!r} has no build_image/record_scope methods")
    return builder
